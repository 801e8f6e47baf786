package io.patu.datapath.xdp.internal;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;

/**
 * Keeps node_addrs equal to the addresses of the node's interfaces (the host network namespace), on which a
 * port published on every address answers. Read at start, before every newly published port, and every few
 * seconds after, so an address a DHCP lease or an operator changes is followed without a netlink listener.
 */
final class NodeAddresses implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NodeAddresses.class.getName());
    private static final byte[] PRESENT = {1};

    private final BpfMap map;
    private final int periodSeconds;
    /** Run on the same timer: another cheap follow-up of the host's state (policy's pinned map). */
    private final Runnable alongside;
    private ScheduledExecutorService timer;

    NodeAddresses(BpfMap map, int periodSeconds, Runnable alongside) {
        this.map = map;
        this.periodSeconds = periodSeconds;
        this.alongside = alongside;
    }

    synchronized void start() {
        refresh();
        alongside.run();
        if (periodSeconds > 0) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "patu-xdp-node-addresses");
                thread.setDaemon(true);
                return thread;
            });
            timer.scheduleWithFixedDelay(this::refreshQuietly, periodSeconds, periodSeconds, TimeUnit.SECONDS);
        }
    }

    /** Makes the map hold exactly the node's addresses now. */
    synchronized void refresh() {
        Set<List<Byte>> now = new HashSet<>();
        try (RtNetlink host = RtNetlink.open()) {
            for (Link link : host.links()) {
                try {
                    for (Address address : host.addresses(link.name())) {
                        now.add(asList(XdpLayouts.podKey(address.address())));
                    }
                } catch (RuntimeException e) {
                    // The link went away between the two dumps: it has no address to serve.
                }
            }
        }
        for (byte[] key : map.keys()) {
            if (!now.remove(asList(key))) {
                map.delete(key);
            }
        }
        for (List<Byte> key : now) {
            byte[] bytes = new byte[key.size()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = key.get(i);
            }
            map.update(bytes, PRESENT, BpfMap.ANY);
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot read the node's addresses", e);
        }
        alongside.run(); // reports its own failures
    }

    private static List<Byte> asList(byte[] bytes) {
        Byte[] boxed = new Byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            boxed[i] = bytes[i];
        }
        return List.of(boxed);
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
