# Generates the conformance data (see README.md): each case's policy YAML per step and its expected matrices, the matrices from
# the upstream test's Expect* statements (transcribed below), never from Patu's engine.
import os, sys, yaml
OUT = sys.argv[1]
NS = ["x", "y", "z"]; PODS = ["a", "b", "c"]
ALL = [f"{n}/{p}" for n in NS for p in PODS]
NSL = "kubernetes.io/metadata.name"

def sel(labels=None, exprs=None):
    s = {}
    if labels is not None: s["matchLabels"] = labels
    if exprs is not None: s["matchExpressions"] = exprs
    return s

def np(name, ns, podsel, ingress=None, egress=None, types=None):
    spec = {"podSelector": podsel}
    if types is None:
        types = (["Ingress"] if ingress is not None else []) + (["Egress"] if egress is not None else [])
    if ingress is not None: spec["ingress"] = ingress
    if egress is not None: spec["egress"] = egress
    if types is not None: spec["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}

def pod(ns, name, labels):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": {"containers": [
        {"name": f"cont-{port}-{proto.lower()}", "ports": [{"name": f"serve-{port}-{proto.lower()}", "containerPort": port, "protocol": proto}]}
        for port in (80, 81) for proto in ("TCP", "UDP")]}}

def namespace(name, labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

class R:
    def __init__(self): self.m = {(f, t): True for f in ALL for t in ALL}
    def _match(self, peer, p):
        ns, po = p.split("/")
        return (peer.get("ns") in (None, ns)) and (peer.get("pod") in (None, po))
    def peer(self, fr, to, v):
        for f in ALL:
            for t in ALL:
                if self._match(fr, f) and self._match(to, t): self.m[(f, t)] = v
        return self
    def ingress(self, p, v):
        for f in ALL: self.m[(f, p)] = v
        return self
    def egress(self, p, v):
        for t in ALL: self.m[(p, t)] = v
        return self
    def pair(self, f, t, v): self.m[(f, t)] = v; return self
    def text(self):
        rows = ["-\t" + "\t".join(ALL)]
        for f in ALL: rows.append(f + "\t" + "\t".join("." if self.m[(f, t)] else "X" for t in ALL))
        return "\n".join(rows)

cases = []
def case(dirname, title, steps, note=""):
    cases.append((dirname, title, steps, note))

ING = lambda *peers, ports=None: ({"from": list(peers)} if peers else {}) | ({"ports": ports} if ports else {})
EGR = lambda *peers, ports=None: ({"to": list(peers)} if peers else {}) | ({"ports": ports} if ports else {})
P = lambda port, proto=None: {"port": port} | ({"protocol": proto} if proto else {})

deny_ing = np("deny-ingress", "x", {}, types=["Ingress"])
case("01-default-deny-ingress", "should support a 'default-deny-ingress' policy",
     [([deny_ing], {"80/TCP": R().peer({}, {"ns": "x"}, False)})])
case("02-default-deny-all", "should support a 'default-deny-all' policy",
     [([np("deny-all", "x", {}, types=["Ingress", "Egress"])], {"80/TCP": R().peer({}, {"ns": "x"}, False).peer({"ns": "x"}, {}, False)})])
case("03-allow-same-namespace-podselector", "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
     [([np("x-a-allows-x-b", "x", sel({"pod": "a"}), ingress=[ING({"podSelector": sel({"pod": "b"})})])],
       {"80/TCP": R().ingress("x/a", False).pair("x/b", "x/a", True)})])
case("04-allow-ingress-for-target", "should enforce policy to allow ingress traffic for a target",
     [([np("deny-all", "x", {}, types=["Ingress"]),
        np("allow-all-to-a", "x", sel({"pod": "a"}), ingress=[ING({"podSelector": {}, "namespaceSelector": {}})])],
       {"80/TCP": R().ingress("x/a", True).ingress("x/b", False).ingress("x/c", False)})])
case("05-allow-from-all-namespaces", "should enforce policy to allow ingress traffic from pods in all namespaces",
     [([np("allow-from-another-ns", "x", sel({"pod": "a"}), ingress=[ING({"namespaceSelector": sel({})})])], {"80/TCP": R()})])
case("06-allow-other-namespace-nsselector", "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
     [([np("allow-client-a-via-ns-selector", "x", sel({"pod": "a"}), ingress=[ING({"namespaceSelector": sel({NSL: "y"})})])],
       {"80/TCP": R().peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)})])
case("07-podselector-matchexpressions", "should enforce policy based on PodSelector with MatchExpressions",
     [([np("x-a-allows-x-b", "x", sel({"pod": "a"}), ingress=[ING({"podSelector": sel(exprs=[{"key": "pod", "operator": "In", "values": ["b"]}])})])],
       {"80/TCP": R().ingress("x/a", False).pair("x/b", "x/a", True)})])
case("08-nsselector-matchexpressions", "should enforce policy based on NamespaceSelector with MatchExpressions",
     [([np("allow-ns-y-match-selector", "x", sel({"pod": "a"}), ingress=[ING({"namespaceSelector": sel(exprs=[{"key": NSL, "operator": "In", "values": ["y"]}])})])],
       {"80/TCP": R().peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)})])
case("09-podselector-or-nsselector", "should enforce policy based on PodSelector or NamespaceSelector",
     [([np("allow-ns-y-match-selector", "x", sel({"pod": "a"}), ingress=[ING(
         {"namespaceSelector": sel(exprs=[{"key": NSL, "operator": "NotIn", "values": ["x"]}])}, {"podSelector": sel({"pod": "b"})})])],
       {"80/TCP": R().pair("x/a", "x/a", False).pair("x/c", "x/a", False)})])
case("10-podselector-and-nsselector", "should enforce policy based on PodSelector and NamespaceSelector",
     [([np("allow-ns-y-podselector-and-nsselector", "x", sel({"pod": "a"}), ingress=[ING(
         {"namespaceSelector": sel(exprs=[{"key": NSL, "operator": "NotIn", "values": ["x"]}]), "podSelector": sel({"pod": "b"})})])],
       {"80/TCP": R().ingress("x/a", False).pair("y/b", "x/a", True).pair("z/b", "x/a", True)})])
case("11-multiple-podselectors-and-nsselectors", "should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
     [([np("allow-ns-y-z-pod-b-c", "x", sel({"pod": "a"}), ingress=[ING(
         {"namespaceSelector": sel(exprs=[{"key": NSL, "operator": "NotIn", "values": ["x"]}]),
          "podSelector": sel(exprs=[{"key": "pod", "operator": "In", "values": ["b", "c"]}])})])],
       {"80/TCP": R().peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).pair("y/a", "x/a", False).pair("z/a", "x/a", False)})])
case("12-any-podselectors", "should enforce policy based on any PodSelectors",
     [([np("allow-ns-x-pod-b-c", "x", sel({"pod": "a"}), ingress=[ING({"podSelector": sel({"pod": "b"})}, {"podSelector": sel({"pod": "c"})})])],
       {"80/TCP": R().ingress("x/a", False).pair("x/b", "x/a", True).pair("x/c", "x/a", True)})])
pod_and_ns = np("allow-ns-y-pod-a-via-namespace-pod-selector", "x", sel({"pod": "a"}), ingress=[ING(
    {"namespaceSelector": sel({NSL: "y"}), "podSelector": sel({"pod": "a"})})])
case("13-pod-in-other-namespace-tcp", "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
     [([pod_and_ns], {"80/TCP": R().ingress("x/a", False).pair("y/a", "x/a", True)})])
port81 = lambda proto, name: np(name, "x", sel({"pod": "a"}), ingress=[ING({"namespaceSelector": sel({NSL: "y"})}, ports=[P(81, proto)])])
case("14-ports", "should enforce policy based on Ports",
     [([port81("TCP", "allow-client-a-via-ns-selector")],
       {"81/TCP": R().peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "y"}, {"ns": "x", "pod": "a"}, True).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)})])
allow81 = lambda: R().peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "y"}, {"ns": "x", "pod": "a"}, True).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
p80 = np("allow-client-a-via-ns-selector-80", "x", sel({"pod": "a"}), ingress=[ING({"namespaceSelector": sel({NSL: "y"})}, ports=[P(80, "TCP")])])
case("15-stacked-overlapping-podselectors", "should enforce multiple, stacked policies with overlapping podSelectors",
     [([port81("TCP", "allow-client-a-via-ns-selector")], {"81/TCP": allow81(), "80/TCP": R().ingress("x/a", False)}),
      ([port81("TCP", "allow-client-a-via-ns-selector"), p80], {"80/TCP": allow81(), "81/TCP": allow81()})],
     "step 2 adds a second policy (update: policy added); upstream probes only port 80 after it, port 81 is unchanged")
case("16-allow-all", "should support allow-all policy",
     [([np("allow-all", "x", sel({}), ingress=[{}])], {"80/TCP": R(), "81/TCP": R()})])
case("17-ingress-named-port", "should allow ingress access on one named port",
     [([np("allow-all", "x", sel({}), ingress=[ING(ports=[{"port": "serve-81-tcp"}])])],
       {"81/TCP": R(), "80/TCP": R().peer({}, {"ns": "x"}, False)})])
case("18-ingress-from-namespace-named-port", "should allow ingress access from namespace on one named port",
     [([np("allow-client-a-via-ns-selector-80", "x", sel({"pod": "a"}), ingress=[ING({"namespaceSelector": sel({NSL: "y"})}, ports=[{"port": "serve-80-tcp", "protocol": "TCP"}])])],
       {"80/TCP": R().peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False),
        "81/TCP": R().ingress("x/a", False)})])
case("19-egress-named-port", "should allow egress access on one named port",
     [([np("allow-egress", "x", sel({}), egress=[EGR(ports=[{"port": "serve-80-tcp"}])])],
       {"80/TCP": R(), "81/TCP": R().peer({"ns": "x"}, {}, False)})])
case("20-updated-policy", "should enforce updated policy",
     [([np("allow-all-mutate-to-deny-all", "x", sel({}), ingress=[{}])], {"81/TCP": R()}),
      ([np("allow-all-mutate-to-deny-all", "x", sel({}), ingress=[])], {"81/TCP": R().peer({}, {"ns": "x"}, False)})],
     "update: the same policy changed from allow-all to deny-all ingress")
ns_updated = np("allow-client-a-via-ns-selector", "x", sel({"pod": "a"}), ingress=[ING({"namespaceSelector": sel({"ns2": "updated"})})])
case("21-updated-namespace", "should allow ingress access from updated namespace",
     [([ns_updated], {"80/TCP": R().ingress("x/a", False)}),
      ([ns_updated, namespace("y", {"ns": "y", "ns2": "updated"})], {"80/TCP": R().ingress("x/a", False).peer({"ns": "y"}, {}, True)})],
     "update: namespace y relabelled (ns2=updated) in step 2")
pod_updated = np("allow-client-a-via-pod-selector", "x", sel({"pod": "a"}), ingress=[ING({"podSelector": sel({"pod": "b", "pod2": "updated"})})])
case("22-updated-pod", "should allow ingress access from updated pod",
     [([pod_updated], {"80/TCP": R().ingress("x/a", False)}),
      ([pod_updated, pod("x", "b", {"pod": "b", "pod2": "updated"})], {"80/TCP": R().ingress("x/a", False).pair("x/b", "x/a", True)})],
     "update: pod x/b relabelled (pod2=updated) in step 2")
case("23-deny-ingress-other-namespaces", "should deny ingress from pods on other namespaces",
     [([np("deny-empty-policy", "x", {}, ingress=[ING({"podSelector": sel({})})])],
       {"80/TCP": R().peer({"ns": "y"}, {"ns": "x"}, False).peer({"ns": "z"}, {"ns": "x"}, False)})])
isolated = np("deny-ingress-via-label-selector", "x", sel({"target": "isolated"}), types=["Ingress"])
case("24-deny-ingress-updated-pod", "should deny ingress access to updated pod",
     [([isolated], {"80/TCP": R()}),
      ([isolated, pod("x", "a", {"pod": "a", "target": "isolated"})], {"80/TCP": R().ingress("x/a", False)})],
     "update: pod x/a relabelled (target=isolated) in step 2")
case("25-deny-egress-podselector", "should deny egress from pods based on PodSelector",
     [([np("deny-egress-pod-a", "x", {"matchLabels": {"pod": "a"}}, types=["Egress"])], {"80/TCP": R().egress("x/a", False)})])
case("26-deny-egress-namespace", "should deny egress from all pods in a namespace",
     [([np("deny-egress-ns-x", "x", {}, types=["Egress"])], {"80/TCP": R().peer({"ns": "x"}, {}, False)})])
case("27-ingress-and-egress-together", "should work with Ingress, Egress specified together",
     [([np("allow-client-a-via-pod-selector", "x", sel({"pod": "a"}), ingress=[ING({"podSelector": sel({"pod": "b"})})],
           egress=[EGR(ports=[P(80)])], types=["Egress", "Ingress"])],
       {"80/TCP": R().ingress("x/a", False).pair("x/b", "x/a", True),
        "81/TCP": R().ingress("x/a", False).egress("x/a", False).pair("x/b", "x/a", True)})])
from_xa = ING({"namespaceSelector": sel({NSL: "x"}), "podSelector": sel({"pod": "a"})})
case("28-deny-egress-client-side", "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
     [([np("allow-to-ns-y-pod-a", "x", sel({"pod": "a"}), egress=[EGR({"namespaceSelector": sel({NSL: "y"}), "podSelector": sel({"pod": "a"})})]),
        np("allow-from-xa-on-ya-match-selector", "y", sel({"pod": "a"}), ingress=[from_xa]),
        np("allow-from-xa-on-yb-match-selector", "y", sel({"pod": "b"}), ingress=[from_xa])],
       {"80/TCP": R().peer({"ns": "x", "pod": "a"}, {}, False).peer({}, {"ns": "y", "pod": "a"}, False)
                    .peer({"ns": "x", "pod": "a"}, {"ns": "y", "pod": "a"}, True).peer({}, {"ns": "y", "pod": "b"}, False)})])
case("29-egress-other-namespace-pod-and-ns-selector", "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
     [([np("allow-to-ns-y-pod-a", "x", sel({"pod": "a"}), egress=[EGR({"namespaceSelector": sel({NSL: "y"}), "podSelector": sel({"pod": "a"})})])],
       {"80/TCP": R().egress("x/a", False).pair("x/a", "y/a", True)})])
case("30-ingress-any-port-one-protocol", "should enforce ingress policy allowing any port traffic to a server on a specific protocol",
     [([np("allow-ingress-by-proto", "x", sel({"pod": "a"}), ingress=[ING(ports=[{"protocol": "TCP"}])])],
       {"80/TCP": R(), "80/UDP": R().peer({}, {"ns": "x", "pod": "a"}, False)})])
only80 = np("allow-ingress-port-80", "x", sel({}), ingress=[ING(ports=[P(80)])])
case("31-ingress-allow-all-precedence", "should enforce multiple ingress policies with ingress allow-all policy taking precedence",
     [([only80], {"81/TCP": R().peer({}, {"ns": "x"}, False)}),
      ([only80, np("allow-ingress", "x", sel({}), ingress=[{}])], {"81/TCP": R()})],
     "update: an allow-all policy added in step 2")
eonly80 = np("allow-egress-port-80", "x", sel({}), egress=[EGR(ports=[P(80)])])
case("32-egress-allow-all-precedence", "should enforce multiple egress policies with egress allow-all policy taking precedence",
     [([eonly80], {"81/TCP": R().peer({"ns": "x"}, {}, False)}),
      ([eonly80, np("allow-egress", "x", sel({}), egress=[{}])], {"81/TCP": R()})],
     "update: an allow-all policy added in step 2")
case("33-policy-deleted", "should stop enforcing policies after they are deleted",
     [([np("deny-all", "x", {}, types=["Ingress", "Egress"])], {"80/TCP": R().peer({"ns": "x"}, {}, False).peer({}, {"ns": "x"}, False)}),
      ([], {"80/TCP": R()})],
     "update: the policy deleted in step 2")
case("34-egress-cidr", "should allow egress access to server in CIDR block",
     [([np("allow-client-a-via-cidr-egress-rule", "x", sel({"pod": "a"}), egress=[EGR({"ipBlock": {"cidr": "{{host y/b}}"}})])],
       {"80/TCP": R().egress("x/a", False).pair("x/a", "y/b", True)})])
except_policy = np("allow-client-a-via-cidr-egress-rule", "x", sel({"pod": "a"}),
                   egress=[EGR({"ipBlock": {"cidr": "{{cidr x/a 4}}", "except": ["{{host x/b}}"]}})])
case("35-egress-cidr-except", "should enforce except clause while egress access to server in CIDR block",
     [([except_policy], {"80/TCP": R().pair("x/a", "x/b", False)})])
case("36-cidr-and-except-overlap", "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed",
     [([except_policy], {"80/TCP": R().pair("x/a", "x/b", False)}),
      ([np("allow-client-a-via-cidr-egress-rule", "x", sel({"pod": "a"}), egress=[EGR({"ipBlock": {"cidr": "{{host x/b}}"}})])],
       {"80/TCP": R().egress("x/a", False).pair("x/a", "x/b", True)})],
     "update: the policy replaced in step 2")
egress_all_a = np("allow-egress-for-target", "x", sel({"pod": "a"}), egress=[{}])
case("37-ingress-egress-independent", "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector",
     [([egress_all_a], {"80/TCP": R()}),
      ([egress_all_a, np("deny-ingress-via-label-selector", "x", sel({"pod": "a"}), types=["Ingress"])], {"80/TCP": R().ingress("x/a", False)})],
     "update: a deny-ingress policy added in step 2")
case("38-sctp-is-not-tcp", "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
     [([deny_ing, np("allow-only-sctp-ingress-on-port-81", "x", sel({"pod": "a"}), ingress=[ING(ports=[P(81, "SCTP")])])],
       {"81/TCP": R().peer({}, {"ns": "x"}, False)})])
case("39-sctp-policy-isolates", "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
     [([np("allow-only-sctp-ingress-on-port-80", "x", sel({"pod": "a"}), ingress=[ING(ports=[P(80, "SCTP")])])],
       {"81/TCP": R().ingress("x/a", False)})])
case("40-udp-policy-not-tcp", "should not allow access by TCP when a policy specifies only UDP",
     [([np("allow-only-udp-ingress-on-port-81", "x", sel({"pod": "a"}), ingress=[ING(ports=[P(81, "UDP")])])],
       {"81/TCP": R().ingress("x/a", False), "81/UDP": R()})],
     "the 81/UDP block is not in the upstream case: the policy allows UDP 81 from everyone")
case("41-default-namespace-label-matchlabels", "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
     [([np("allow-client-a-via-ns-selector-for-immutable-ns-label", "x", sel({"pod": "a"}), ingress=[ING({"namespaceSelector": sel({NSL: "y"})})])],
       {"80/TCP": R().peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)})])
case("42-default-namespace-label-matchexpressions", "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
     [([np("allow-ns-y-match-selector-for-immutable-ns-label", "x", sel({"pod": "a"}),
           egress=[EGR({"namespaceSelector": sel(exprs=[{"key": NSL, "operator": "NotIn", "values": ["y"]}])})])],
       {"80/TCP": R().peer({"ns": "x", "pod": "a"}, {"ns": "y"}, False)})])
case("43-udp-default-deny-ingress", "UDP: should support a 'default-deny-ingress' policy",
     [([np("deny-all", "x", {}, types=["Ingress"])], {"80/UDP": R().peer({}, {"ns": "x"}, False)})])
case("44-udp-ports", "UDP: should enforce policy based on Ports",
     [([port81("UDP", "allow-ingress-on-port-81-ns-x")],
       {"81/UDP": R().peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)})])
case("45-udp-pod-in-other-namespace", "UDP: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
     [([pod_and_ns], {"80/UDP": R().ingress("x/a", False).pair("y/a", "x/a", True)})])

os.makedirs(OUT, exist_ok=True)
world = [namespace(n, {"ns": n}) for n in NS] + [pod(n, p, {"pod": p}) for n in NS for p in PODS]
with open(os.path.join(OUT, "world.yaml"), "w") as f:
    f.write("# The conformance world: namespaces x, y, z; pods a, b, c in each (label pod=NAME), serving ports 80 and 81\n"
            "# over TCP and UDP under the names serve-PORT-PROTO, as the upstream e2e model builds them.\n")
    yaml.safe_dump_all(world, f, sort_keys=False, explicit_start=True)
index = []
for dirname, title, steps, note in cases:
    d = os.path.join(OUT, dirname); os.makedirs(d, exist_ok=True)
    for i, (objects, probes) in enumerate(steps, 1):
        with open(os.path.join(d, f"step-{i}.yaml"), "w") as f:
            f.write(f"# {dirname} step {i} of {len(steps)}: upstream \"{title}\"\n")
            if objects:
                yaml.safe_dump_all(objects, f, sort_keys=False, explicit_start=True)
        with open(os.path.join(d, f"step-{i}.expect"), "w") as f:
            f.write(f"# {dirname} step {i}: rows are sources, columns destinations; . allowed, X denied\n")
            for probe, r in probes.items():
                f.write(f"\n{probe}\n{r.text()}\n")
    index.append((dirname, title, len(steps), note))
with open(os.path.join(OUT, "cases.txt"), "w") as f:
    for dirname, title, n, note in index:
        f.write(f"{dirname}\t{n}\t{title}\t{note}\n")
print(len(cases), "cases")
