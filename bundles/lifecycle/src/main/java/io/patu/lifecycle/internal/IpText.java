package io.patu.lifecycle.internal;

import java.net.Inet4Address;
import java.net.InetAddress;

/** IP addresses as CNI results write them: IPv6 in the compressed form of RFC 5952 ("fd00::5", not "fd00:0:...:5"). */
final class IpText {
    private IpText() {
    }

    static String of(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        byte[] bytes = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (bytes[2 * i] & 0xff) << 8 | bytes[2 * i + 1] & 0xff;
        }
        // The longest run of at least two zero groups (the first of equal ones) becomes "::".
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && groups[i] == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (!out.isEmpty() && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    static String cidr(InetAddress address, int prefixLength) {
        return of(address) + "/" + prefixLength;
    }
}
