"""EntityPath parsing, navigation, ordering and the entity tree."""

from __future__ import annotations

import pickle

import pytest

from viewer.store.entity_path import EntityPath
from viewer.store.entity_tree import EntityTree


def test_parse_with_and_without_leading_slash() -> None:
    a = EntityPath.parse("/world/robot/arm")
    assert a == EntityPath.parse("world/robot/arm") == EntityPath.parse("world//robot/arm/")
    assert a.parts == ("world", "robot", "arm")
    assert str(a) == "/world/robot/arm"
    assert a.name == "arm"
    assert hash(a) == hash(EntityPath(["world", "robot", "arm"]))


def test_root() -> None:
    root = EntityPath.parse("/")
    assert root.is_root and root == EntityPath.parse("") == EntityPath.root()
    assert str(root) == "/"
    assert root.parent is None
    assert root.name == ""


def test_parent_chain() -> None:
    p = EntityPath.parse("/a/b/c")
    assert p.parent == EntityPath.parse("/a/b")
    assert p.parent.parent.parent.is_root
    assert [str(x) for x in p.ancestors()] == ["/a/b", "/a", "/"]
    assert p.is_descendant_of(EntityPath.parse("/a"))
    assert not EntityPath.parse("/ab").is_descendant_of(EntityPath.parse("/a"))
    assert p.join("d/e") == EntityPath.parse("/a/b/c/d/e")


def test_escapes_are_kept_verbatim() -> None:
    p = EntityPath.parse(r"/my\ robot/a\/b/c")
    assert p.parts == (r"my\ robot", r"a\/b", "c")
    assert str(p) == r"/my\ robot/a\/b/c"
    assert EntityPath.parse(str(p)) == p
    trailing = EntityPath.parse("/x\\ ")
    assert trailing.parts == ("x\\ ",)


def test_ordering_is_by_parts() -> None:
    paths = [EntityPath.parse(s) for s in ["/b", "/a/z", "/a", "/", "/a/b", "/a b"]]
    assert [str(p) for p in sorted(paths)] == ["/", "/a", "/a/b", "/a/z", "/a b", "/b"]


def test_immutable_and_picklable() -> None:
    p = EntityPath.parse("/a/b")
    with pytest.raises(AttributeError):
        p._parts = ("x",)  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(ValueError):
        EntityPath(["a/b"])
    with pytest.raises(ValueError):
        EntityPath([""])


def test_tree_add_returns_created_nodes_parents_first() -> None:
    tree = EntityTree()
    created = tree.add(EntityPath.parse("/world/robot/arm"), 5)
    assert [str(p) for p in created] == ["/world", "/world/robot", "/world/robot/arm"]
    assert tree.add(EntityPath.parse("/world/robot/arm"), 2) == []
    assert [str(p) for p in tree.add(EntityPath.parse("/world/cam"), 1)] == ["/world/cam"]
    assert [str(p) for p in tree.add(EntityPath.parse("/world/base"), 1)] == ["/world/base"]

    world = tree.node(EntityPath.parse("/world"))
    assert world is not None
    assert [c.name for c in world.sorted_children()] == ["base", "cam", "robot"]
    assert world.child_index("robot") == 2
    assert world.own_rows == 0 and world.subtree_rows == 9
    arm = tree.node(EntityPath.parse("/world/robot/arm"))
    assert arm is not None and arm.own_rows == 7 and arm.subtree_rows == 7
    assert tree.root.subtree_rows == 9
    assert [str(p) for p in tree.paths()] == [
        "/world", "/world/base", "/world/cam", "/world/robot", "/world/robot/arm",
    ]


def test_tree_rows_on_inner_nodes_and_removal() -> None:
    tree = EntityTree()
    tree.add(EntityPath.parse("/a/b"), 3)
    assert tree.add(EntityPath.parse("/a"), 4) == []
    node_a = tree.node(EntityPath.parse("/a"))
    assert node_a is not None and (node_a.own_rows, node_a.subtree_rows) == (4, 7)
    tree.remove_rows(EntityPath.parse("/a/b"), 3)
    assert (node_a.own_rows, node_a.subtree_rows) == (4, 4)
    assert EntityPath.parse("/a/b") in tree
