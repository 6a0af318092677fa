"""Config presets hold memberlist's published defaults; invalid values name the field."""

import pytest

from swimlab.protocol.config import Config, lan, local, preset, wan
from swimlab.protocol.errors import ConfigError


def test_lan_is_memberlists_default_lan_config():
    c = lan()
    assert (c.probe_interval_s, c.probe_timeout_s, c.indirect_checks) == (1.0, 0.5, 3)
    assert (c.suspicion_mult, c.suspicion_max_timeout_mult, c.retransmit_mult) == (4, 6, 4)
    assert (c.gossip_interval_s, c.gossip_nodes, c.push_pull_interval_s) == (0.2, 3, 30.0)
    assert (c.gossip_to_the_dead_s, c.awareness_max_multiplier, c.packet_budget_bytes) == (30.0, 8, 1400)


def test_wan_and_local_change_what_memberlist_changes():
    w = wan()
    assert (w.probe_interval_s, w.probe_timeout_s, w.suspicion_mult) == (5.0, 3.0, 6)
    assert (w.gossip_nodes, w.gossip_interval_s, w.push_pull_interval_s, w.gossip_to_the_dead_s) == (
        4,
        0.5,
        60.0,
        60.0,
    )
    lo = local()
    assert (lo.indirect_checks, lo.retransmit_mult, lo.suspicion_mult) == (1, 2, 3)
    assert (lo.probe_timeout_s, lo.gossip_interval_s, lo.push_pull_interval_s, lo.gossip_to_the_dead_s) == (
        0.2,
        0.1,
        15.0,
        15.0,
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("probe_interval_s", 0.0, "expected > 0"),
        ("probe_timeout_s", 2.0, "expected <= probe_interval_s"),
        ("indirect_checks", -1, "expected >= 0"),
        ("gossip_nodes", 0, "expected >= 1"),
        ("gossip_nodes", True, "expected int"),
        ("suspicion_mult", 2.5, "expected int"),
        ("probe_interval_s", "1s", "expected float"),
        ("detector", "paxos", "expected 'swim' or 'phi'"),
        ("retransmit_formula", "log2", "expected 'memberlist' or 'seed'"),
        ("packet_budget_bytes", 100, "expected >= 256"),
        ("lifeguard_lhm", 1, "expected bool"),
    ],
)
def test_invalid_values_name_the_field(field, value, expected):
    with pytest.raises(ConfigError, match=f"'{field}'.*{expected}"):
        lan().replace(**{field: value})


def test_unknown_fields_and_presets_are_refused():
    with pytest.raises(ConfigError, match="unknown config field"):
        lan().replace(probe_intervall_s=1.0)
    with pytest.raises(ConfigError, match="unknown preset 'lann'"):
        preset("lann")
    assert preset("lan", gossip_nodes=5) == Config(gossip_nodes=5)
