"""Which blueprint applies: activation commands in order, defaults, reset, removal."""

from __future__ import annotations

from viewer.log.messages import BlueprintActivationCommand, StoreId, StoreKind
from viewer.scene.blueprint_choice import BlueprintChoice


def _bp(name: str, app: str = "app") -> StoreId:
    return StoreId(StoreKind.BLUEPRINT, name, app)


def test_active_then_default_then_reset() -> None:
    choice = BlueprintChoice()
    a, b = _bp("a"), _bp("b")
    choice.add_store(a)
    assert choice.store_for("app") == a  # no command yet: the blueprint that came
    choice.on_activation(BlueprintActivationCommand(a, make_active=True, make_default=True))
    choice.add_store(b)
    assert choice.store_for("app") == a
    g = choice.generation("app")
    choice.on_activation(BlueprintActivationCommand(b, make_active=True, make_default=False))
    assert choice.store_for("app") == b and choice.generation("app") > g
    choice.reset_to_default("app")
    assert choice.store_for("app") == a
    assert choice.store_for("other") is None


def test_reset_without_a_default_means_heuristics_and_removal_forgets() -> None:
    choice = BlueprintChoice()
    a = _bp("a")
    choice.add_store(a)
    choice.on_activation(BlueprintActivationCommand(a, make_active=True))
    choice.reset_to_default("app")
    assert choice.store_for("app") is None
    b = _bp("b")
    choice.add_store(b)
    choice.on_activation(BlueprintActivationCommand(b, make_default=True))
    assert choice.store_for("app") == b
    choice.remove_store(b)
    assert choice.store_for("app") is None
