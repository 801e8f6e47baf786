# Every bundle the distribution ships, with the Felix Gogo console on stdin. The default profile.
# A new feature bundle joins it with one 'bundle NAME' line (format: see minimal.profile).
description Every feature, with the Gogo console on stdin (default)
config conf/patu.json

include minimal
# The packet datapath: tcx delivery between local pods, native XDP deny lists on ingress devices.
bundle datapath-xdp
# Over-the-air updates (patu:ota, io.patu.ota). Not in minimal: minimal is the footprint floor of an agent
# that networks pods, and updates are applied to it by replacing the installation; a device that updates
# bundles over the air runs this profile, or one that includes minimal and adds 'bundle ota'. It comes after
# the bundles it updates, so its first health window sees them started.
bundle ota
bundle org.apache.felix.gogo.shell
# Prometheus metrics, /livez and /readyz over HTTP (io.patu.metrics in conf/patu.json).
bundle metrics
# Network policy (Kubernetes NetworkPolicy from conf policyDir), and the YAML parser its files need.
bundle snakeyaml
bundle jackson-dataformat-yaml
bundle policy
