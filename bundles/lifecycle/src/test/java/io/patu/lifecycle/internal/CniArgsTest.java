package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.PodIdentity;

/** CNI_ARGS as the reference plugins' types.LoadArgs reads it. */
class CniArgsTest {
    @Test
    void whatKubeletSends() {
        CniArgs args = CniArgs.parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;"
                + "K8S_POD_INFRA_CONTAINER_ID=0123abcd;K8S_POD_UID=5f0c8a2e-1a3b-4c5d-8e9f-0a1b2c3d4e5f");
        assertEquals(new PodIdentity("shop", "web-0", "5f0c8a2e-1a3b-4c5d-8e9f-0a1b2c3d4e5f", "0123abcd"), args.identity());
        assertEquals("shop", args.identity().effectiveNamespace());
    }

    @Test
    void whatPodmanSends() {
        // Recorded from podman 4.3.1 with a logging plugin (README "Network policy"), with --network NET:ip=.
        PodIdentity identity = CniArgs.parse("IgnoreUnknown=1;K8S_POD_NAME=pp-lbl;IP=10.88.9.9").identity();
        assertEquals(new PodIdentity("", "pp-lbl", "", ""), identity);
        assertEquals("default", identity.effectiveNamespace());
    }

    @Test
    void emptyOrAbsentIsNoIdentity() {
        assertEquals(PodIdentity.NONE, CniArgs.parse(null).identity());
        assertEquals(PodIdentity.NONE, CniArgs.parse("").identity());
    }

    @Test
    void ignoreUnknownCountsWhereverItStands() {
        assertEquals("a", CniArgs.parse("FOO=1;K8S_POD_NAME=a;IgnoreUnknown=true").identity().name());
        assertEquals("a", CniArgs.parse("FOO=1;K8S_POD_NAME=a;IgnoreUnknown=TRUE").identity().name());
    }

    @Test
    void emptyValuesAreAllowed() {
        assertEquals(PodIdentity.NONE, CniArgs.parse("K8S_POD_NAME=;K8S_POD_NAMESPACE=").identity());
    }

    @ParameterizedTest
    @ValueSource(strings = {";;==;K8S_POD_NAME", "K8S_POD_NAME", "K8S_POD_NAME=a=b", ";", "=", "K8S_POD_NAME=a;",
            "IgnoreUnknown=1;;K8S_POD_NAME=x", "IgnoreUnknown=maybe", "FOO=bar", "IgnoreUnknown=0;FOO=bar",
            "k8s_pod_name=a", "K8S_POD_NAME=x\ny", "K8S_POD_NAME=x\u007fy"})
    void malformedOrUnknownIsRefused(String text) {
        PatuException e = assertThrows(PatuException.class, () -> CniArgs.parse(text));
        assertEquals(CniError.INVALID_ENVIRONMENT, e.code());
        assertTrue(e.getMessage().startsWith("CNI_ARGS"), e.getMessage());
        assertTrue(e.getMessage().indexOf('\n') < 0, "no raw control characters in " + e.getMessage());
    }

    @Test
    void sizesAreBounded() {
        assertThrows(PatuException.class, () -> CniArgs.parse("K8S_POD_NAME=" + "n".repeat(1025)));
        assertThrows(PatuException.class, () -> CniArgs.parse("IgnoreUnknown=1;X=" + "n".repeat(17_000)));
        assertEquals(1024, CniArgs.parse("K8S_POD_NAME=" + "n".repeat(1024)).identity().name().length());
    }
}
