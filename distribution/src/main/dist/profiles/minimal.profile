# The smallest agent that networks pods: CNI verbs, IP leases, socket redirection, and the Gogo runtime
# that 'patu shell' talks to over the agent socket. No console on stdin.
#
# One line each: 'description TEXT', 'config FILE' (relative to the installation; default conf/patu.json;
# 'patu run --config' overrides it), 'include PROFILE', 'bundle NAME' (the jar bundle/NAME-<version>.jar),
# 'require FEATURE' (the agent is not ready while that feature is disabled or unhealthy; see README
# "Health and readiness"). Bundles start in the order listed; requirements add up through 'include'.
description Pod networking with socket redirection; remote shell only (no console)
config conf/patu.json

# Declarative Services, with the DS API bundles SCR 2.2 no longer contains, and Configuration Admin.
bundle org.osgi.util.function
bundle org.osgi.util.promise
bundle org.osgi.service.component
bundle org.apache.felix.configadmin
bundle org.apache.felix.scr
# Commands (patu:*, lb, start, stop) for 'patu shell', without the console.
bundle org.apache.felix.gogo.runtime
bundle org.apache.felix.gogo.command
# JSON for the configuration file, the agent protocol and the persisted state.
bundle jackson-annotations
bundle jackson-core
bundle jackson-databind
# Patu.
bundle api
bundle native
bundle config
bundle ipam
bundle datapath-sockmap
# Pods reach beyond the node with the node's address (masquerade): a device's workloads talk to their
# cloud broker, so even the smallest agent has it. A device whose pods never leave it can drop this line
# (or 'patu:disable egress').
bundle egress
bundle lifecycle

# The node does its job only with addresses and socket redirection: without either it is not ready.
require ipam
require sockmap
