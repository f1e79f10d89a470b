import pytest

from ganzoo.errors import DuplicateNameError, UnknownNameError, did_you_mean
from ganzoo.registry import Provider, Registry

P1 = Provider("alpha", "ganzoo-alpha", "1.0")
P2 = Provider("beta", "ganzoo-beta", "2.0")


def filled() -> Registry[str]:
    registry: Registry[str] = Registry("model")
    for name in ("gan10", "gan2", "dcgan", "cyclegan", "gan1"):
        registry.register(name, f"spec-{name}", P1)
    return registry


def test_list_natural_sort_and_wildcards():
    registry = filled()
    assert registry.names() == ["cyclegan", "dcgan", "gan1", "gan2", "gan10"]
    assert [e.name for e in registry.list("gan*")] == ["gan1", "gan2", "gan10"]
    assert [e.name for e in registry.list("*cycle*")] == ["cyclegan"]
    assert registry.list("nothing*") == []


def test_get_records_provider():
    registry = filled()
    assert registry.get("dcgan") == "spec-dcgan"
    assert registry.entry("dcgan").provider == P1
    assert str(P1) == "alpha (ganzoo-alpha 1.0)"


def test_unknown_name_suggests_closest():
    with pytest.raises(UnknownNameError, match="Did you mean 'dcgan'"):
        filled().get("dcgn")
    with pytest.raises(UnknownNameError) as info:
        filled().get("zzzzzz")
    assert "Did you mean" not in str(info.value) and "Known: cyclegan, dcgan" in str(info.value)


def test_duplicate_names_both_providers():
    registry = filled()
    with pytest.raises(DuplicateNameError) as info:
        registry.register("dcgan", "other", P2)
    message = str(info.value)
    assert "alpha (ganzoo-alpha 1.0)" in message and "beta (ganzoo-beta 2.0)" in message
    assert registry.get("dcgan") == "spec-dcgan"


@pytest.mark.parametrize("bad", ["", "DCGAN", "has space", "-lead"])
def test_invalid_names_rejected(bad):
    with pytest.raises(ValueError):
        Registry("model").register(bad, "x", P1)


def test_unregister_provider():
    registry = filled()
    registry.register("other", "x", P2)
    registry.unregister_provider("alpha")
    assert registry.names() == ["other"]


def test_did_you_mean_several():
    message = did_you_mean("gan", ["gan1", "gan2", "zzz"])
    assert message.startswith(" Did you mean ") and "'gan1'" in message and "'gan2'" in message and "zzz" not in message
