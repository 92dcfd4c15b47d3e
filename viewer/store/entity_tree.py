"""The entity hierarchy with row counts, grown incrementally as chunks arrive.

`add` returns the nodes it created (parents before children) so a UI can insert them in one
batch per frame instead of rebuilding its model.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from viewer.store.entity_path import EntityPath


class EntityTreeNode:
    """One path in the tree. `own_rows` counts rows logged to this path itself,
    `subtree_rows` includes all descendants."""

    __slots__ = ("_child_names", "children", "own_rows", "parent", "path", "subtree_rows")

    def __init__(self, path: EntityPath, parent: EntityTreeNode | None) -> None:
        self.path = path
        self.parent = parent
        self.children: dict[str, EntityTreeNode] = {}
        self._child_names: list[str] = []
        self.own_rows = 0
        self.subtree_rows = 0

    @property
    def name(self) -> str:
        return self.path.name

    def sorted_children(self) -> list[EntityTreeNode]:
        """Children ordered by name."""
        return [self.children[n] for n in self._child_names]

    def child_index(self, name: str) -> int:
        """Position of child `name` among the sorted children (for model row numbers)."""
        i = bisect.bisect_left(self._child_names, name)
        if i == len(self._child_names) or self._child_names[i] != name:
            raise KeyError(name)
        return i

    def _add_child(self, node: EntityTreeNode) -> None:
        self.children[node.path.name] = node
        bisect.insort(self._child_names, node.path.name)

    def __repr__(self) -> str:
        return f"EntityTreeNode({self.path}, own={self.own_rows}, subtree={self.subtree_rows})"


class EntityTree:
    """All entity paths of a store under one root node."""

    def __init__(self) -> None:
        self.root = EntityTreeNode(EntityPath.root(), None)
        self._nodes: dict[EntityPath, EntityTreeNode] = {self.root.path: self.root}

    def __contains__(self, path: EntityPath) -> bool:
        return path in self._nodes

    def __len__(self) -> int:
        """Number of nodes, the root included."""
        return len(self._nodes)

    def node(self, path: EntityPath) -> EntityTreeNode | None:
        return self._nodes.get(path)

    def add(self, path: EntityPath, rows: int) -> list[EntityPath]:
        """Count `rows` at `path`, creating missing nodes; returns the created paths,
        parents first."""
        node = self._nodes.get(path)
        created: list[EntityPath] = []
        if node is None:
            node = self._create(path, created)
        node.own_rows += rows
        while node is not None:
            node.subtree_rows += rows
            node = node.parent
        return created

    def remove_rows(self, path: EntityPath, rows: int) -> None:
        """Undo `add` for rows that were dropped; nodes stay (they may be selected in a UI)."""
        node = self._nodes.get(path)
        if node is None:
            return
        node.own_rows -= rows
        while node is not None:
            node.subtree_rows -= rows
            node = node.parent

    def _create(self, path: EntityPath, created: list[EntityPath]) -> EntityTreeNode:
        parent_path = path.parent
        assert parent_path is not None  # the root always exists
        parent = self._nodes.get(parent_path)
        if parent is None:
            parent = self._create(parent_path, created)
        node = EntityTreeNode(path, parent)
        parent._add_child(node)
        self._nodes[path] = node
        created.append(path)
        return node

    def walk(self) -> Iterator[EntityTreeNode]:
        """Depth-first, children by name, the root first."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.sorted_children()))

    def paths(self) -> list[EntityPath]:
        """Every node's path except the root, in depth-first name order."""
        return [n.path for n in self.walk() if not n.path.is_root]
