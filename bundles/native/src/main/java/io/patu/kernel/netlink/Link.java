package io.patu.kernel.netlink;

/**
 * A network interface as rtnetlink reports it.
 *
 * @param index       interface index, unique within its network namespace
 * @param name        interface name
 * @param kind        link type from IFLA_INFO_KIND ("bridge", "veth", ...); "" for physical and loopback
 * @param mac         hardware address as lower-case "aa:bb:cc:dd:ee:ff"; "" if the link has none
 * @param mtu         MTU in bytes
 * @param up          administratively up (IFF_UP); says nothing about carrier
 * @param masterIndex index of the bridge (or other master) this link is enslaved to; 0 for none
 * @param rxBytes     received bytes (IFLA_STATS64)
 * @param txBytes     transmitted bytes
 * @param rxPackets   received packets
 * @param txPackets   transmitted packets
 */
public record Link(int index, String name, String kind, String mac, int mtu, boolean up, int masterIndex,
        long rxBytes, long txBytes, long rxPackets, long txPackets) {
}
