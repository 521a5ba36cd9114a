"""The nft file rendered from a plan: atomic replace of the role's table only, every conduit kind, logging."""

from __future__ import annotations

import re

from segment_site import render, seed_ports, with_change

from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import (
    LOG_PREFIXES,
    rev_comment,
)


def statements(text: str) -> list[str]:
    """Top-level statements, comments and blank lines left out."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [line for line in lines if not line.startswith(("\t", "}"))]


def chain(text: str, name: str) -> list[str]:
    match = re.search(rf"^\tchain {name} {{\n(.*?)^\t}}", text, re.MULTILINE | re.DOTALL)
    assert match, name
    return [line.strip() for line in match.group(1).splitlines()]


def set_elements(text: str, name: str) -> list[str]:
    match = re.search(rf"^\tset {name} {{\n(.*?)^\t}}", text, re.MULTILINE | re.DOTALL)
    assert match, name
    inner = re.search(r"elements = {\n(.*?)\n\t\t}", match.group(1), re.DOTALL)
    return [line.strip().rstrip(",") for line in inner.group(1).splitlines()] if inner else []


def test_the_file_replaces_only_the_roles_table_in_one_transaction(catalog):
    text = render(catalog).text
    assert statements(text) == [
        "table inet otnet_opto22",
        "delete table inet otnet_opto22",
        "table inet otnet_opto22 {",
    ]
    assert "flush" not in text
    assert text.startswith("#!/usr/sbin/nft -f\n")


def test_rev_is_a_hash_of_the_file_and_sits_in_the_table_comment(catalog):
    first = render(catalog)
    assert f'\tcomment "{rev_comment(first.rev)}"' in first.text
    assert render(catalog) == first
    other = render(catalog, with_change("conduits[2].services", ["snmp", "snmp_traps"]))
    assert other.rev != first.rev


def test_forward_chain_only_diverts_segment_traffic(catalog):
    assert chain(render(catalog).text, "forward") == [
        "type filter hook forward priority filter; policy accept;",
        "ip daddr @controllers_v4 jump to_segment",
        "ip6 daddr @controllers_v6 jump to_segment",
        "ip saddr @controllers_v4 jump from_segment",
        "ip6 saddr @controllers_v6 jump from_segment",
    ]


def test_segment_chains_allow_replies_then_the_sets_then_log_and_drop(catalog):
    text = render(catalog).text
    to_segment = chain(text, "to_segment")
    assert to_segment[0] == "ct state established,related accept"
    assert "ip saddr . meta l4proto . th dport @conduits_v4 accept" in to_segment
    assert "ip6 saddr . meta l4proto . th dport @conduits_v6 accept" in to_segment
    assert to_segment[-2:] == [
        f'limit rate 10/minute log prefix "{LOG_PREFIXES["to_segment"]}"',
        'counter drop comment "no conduit admits this flow"',
    ]
    from_segment = chain(text, "from_segment")
    assert "ip daddr . meta l4proto . th dport @outbound_v4 accept" in from_segment
    assert from_segment[-1] == 'counter drop comment "no outbound flow admits this"'
    assert LOG_PREFIXES["from_segment"] == "otnet-opto22 drop fwd-out: "


def test_input_chain_protects_the_host(catalog):
    rules = chain(render(catalog, with_change("management.port", 2222)).text, "input")
    assert rules[0] == "type filter hook input priority filter; policy drop;"
    assert rules[1:3] == ['iif "lo" accept', "ct state established,related accept"]
    assert 'ip saddr @management_v4 tcp dport 2222 counter accept comment "management SSH"' in rules
    assert 'ip6 saddr @management_v6 tcp dport 2222 counter accept comment "management SSH"' in rules
    assert any(rule.startswith("icmpv6 type { nd-neighbor-solicit") for rule in rules)
    assert rules[-2:] == [
        'limit rate 10/minute log prefix "otnet-opto22 drop host: "',
        'counter drop comment "not management: dropped at this host"',
    ]


def test_without_log_drops_nothing_is_logged(catalog):
    text = render(catalog, with_change("log_drops", False)).text
    assert "log prefix" not in text
    assert text.count("counter drop comment") == 6  # 3 chains x (invalid, final drop)


def test_log_rate_is_used(catalog):
    text = render(catalog, with_change("log_rate", "3/second")).text
    assert text.count("limit rate 3/second log prefix") == 3


def test_controllers_and_management_sets(catalog):
    text = render(catalog, with_change("controllers", ["10.10.1.11", "2001:db8:10::/64"])).text
    assert set_elements(text, "controllers_v4") == ["10.10.1.11"]
    assert set_elements(text, "controllers_v6") == ["2001:db8:10::/64"]
    assert set_elements(text, "management_v4") == ["10.254.1.0/29"]
    assert set_elements(text, "management_v6") == []


def test_service_conduit_elements_carry_comments(catalog):
    modbus = min(seed_ports("Modbus/TCP"))
    snmp = min(seed_ports("SNMP"))
    elements = set_elements(render(catalog).text, "conduits_v4")
    assert f'10.20.1.0/24 . tcp . {modbus} comment "scada: modbus_tcp"' in elements
    assert f'10.20.3.0/24 . udp . {snmp} comment "nms: snmp"' in elements
    assert not any("corporate" in element for element in elements)


def test_chart_port_conduit(catalog):
    settings = with_change(
        "conduits[3]",
        {
            "name": "line3",
            "sources": ["10.30.1.7"],
            "ports": [{"start": 51000, "end": 51010, "protocol": "udp"}, {"port": 22004, "protocol": "tcp"}],
        },
    )
    elements = set_elements(render(catalog, settings).text, "conduits_v4")
    assert '10.30.1.7 . udp . 51000-51010 comment "line3: chart_logic"' in elements
    assert '10.30.1.7 . tcp . 22004 comment "line3: chart_logic"' in elements


def test_ipv6_conduit_and_outbound(catalog):
    settings = with_change("conduits[0].sources", ["2001:db8:20::/64"])
    settings["opto22_segment_outbound"][0]["destinations"] = ["2001:db8:30::10"]
    text = render(catalog, settings).text
    modbus = min(seed_ports("Modbus/TCP"))
    traps = min(seed_ports("SNMP traps"))
    assert f'2001:db8:20::/64 . tcp . {modbus} comment "scada: modbus_tcp"' in set_elements(text, "conduits_v6")
    assert set_elements(text, "outbound_v6") == [f'2001:db8:30::10 . udp . {traps} comment "traps: snmp_traps"']
    assert set_elements(text, "outbound_v4") == []


def test_header_reads_like_the_inventory(catalog):
    text = render(catalog).text
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "#   conduit scada: into the segment from 10.20.1.0/24" in header
    assert "#   conduit corporate: into the segment from 10.30.1.0/24" in header
    assert "#     nothing (no services, no ports)" in header
    assert "#   outbound traps: to 10.20.3.10" in header
    engineering = [line for line in header if line.startswith("#     pac_control_host ")]
    assert len(engineering) == 1
    assert "; optommp " in engineering[0]
    assert "assumed" in engineering[0]


def rule_lines(text: str) -> list[str]:
    chains = re.findall(r"^\tchain \w+ {\n(.*?)^\t}", text, re.MULTILINE | re.DOTALL)
    return [line for body in chains for line in body.splitlines()]


def test_the_rule_count_does_not_grow_with_the_conduits(catalog):
    """Conduits become set elements; the chains stay the same size (and fast) for 1 or 500 conduits."""
    texts = {}
    for count in (1, 500):
        conduits = [
            {"name": f"c{i}", "sources": [f"10.40.{i // 250}.{i % 250 + 1}"], "services": ["modbus_tcp"]}
            for i in range(count)
        ]
        texts[count] = render(catalog, with_change("conduits", conduits)).text
        assert len(set_elements(texts[count], "conduits_v4")) == count
    assert rule_lines(texts[1]) == rule_lines(texts[500])
