package io.starling.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** helm lint, what particular values turn on, and values that values.schema.json or the templates refuse. */
class ChartValuesTest {

    @Test
    void lintPassesStrictly() {
        LintResult lint = new Helm(Chart.dir()).lint().strict().call();
        assertFalse(lint.isFailed(), "helm lint --strict: " + lint.getMessages());
    }

    private static Map<String, String> env(Chart.Rendered r) {
        StatefulSet sts = (StatefulSet) ApiTypes.strict(r.one("StatefulSet", Chart.FULLNAME));
        return sts.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .collect(Collectors.toMap(EnvVar::getName, e -> e.getValue() == null ? "(from " + e.getValueFrom() + ")" : e.getValue()));
    }

    @Test
    void tlsComesFromACertManagerSecretMountedAsADirectoryAndTheServiceOffersTlsOnly() {
        Chart.Rendered r = Chart.render("tls");
        GenericKubernetesResource cert = (GenericKubernetesResource) ApiTypes.strict(r.one("Certificate", Chart.FULLNAME));
        Map<?, ?> spec = (Map<?, ?>) cert.getAdditionalProperties().get("spec");
        assertEquals("mqtt-starling-tls", spec.get("secretName"));
        assertEquals(Map.of("name", "starling-ca", "kind", "ClusterIssuer", "group", "cert-manager.io"), spec.get("issuerRef"));
        assertTrue(((java.util.List<?>) spec.get("dnsNames")).contains("mqtt-starling.iot.svc.cluster.local"));
        StatefulSet sts = (StatefulSet) ApiTypes.strict(r.one("StatefulSet", Chart.FULLNAME));
        var pod = sts.getSpec().getTemplate().getSpec();
        var tls = pod.getVolumes().stream().filter(v -> v.getName().equals("tls")).findFirst().orElseThrow();
        assertEquals("mqtt-starling-tls", tls.getSecret().getSecretName());
        var mount = pod.getContainers().get(0).getVolumeMounts().stream().filter(m -> m.getName().equals("tls")).findFirst().orElseThrow();
        assertEquals(null, mount.getSubPath(), "a subPath mount would never see a renewal");
        Map<String, String> env = env(r);
        assertEquals("/etc/starling/tls/tls.crt", env.get("STARLING_LISTENER_TLS_CERT_FILE"));
        assertEquals("/etc/starling/tls/ca.crt", env.get("STARLING_LISTENER_TLS_CA_FILE"));
        assertEquals("optional", env.get("STARLING_LISTENER_TLS_CLIENT_AUTH"));
        assertEquals("cn", env.get("STARLING_LISTENER_TLS_IDENTITY"));
        assertEquals("1.3", env.get("STARLING_LISTENER_TLS_MIN_VERSION"));
        assertEquals("false", env.get("STARLING_LISTENER_TCP_ENABLED"));
        assertEquals("true", env.get("STARLING_LISTENER_WSS_PROXY_PROTOCOL"));
        Service svc = (Service) ApiTypes.strict(r.one("Service", Chart.FULLNAME));
        assertEquals(Map.of("mqtts", 8883, "wss", 8084), svc.getSpec().getPorts().stream()
                .collect(Collectors.toMap(p -> p.getName(), p -> p.getPort())));
        assertEquals("*", svc.getMetadata().getAnnotations().get("service.beta.kubernetes.io/aws-load-balancer-proxy-protocol"));
    }

    @Test
    void passwordAndAclFilesComeFromASecretAndChangingThemRollsThePods() {
        Chart.Rendered r = Chart.render("auth");
        Secret s = (Secret) ApiTypes.strict(r.one("Secret", Chart.FULLNAME + "-auth"));
        assertTrue(s.getStringData().get("passwd").startsWith("device-1:$argon2id$"));
        assertTrue(s.getStringData().get("acl").contains("pattern readwrite devices/%u/#"));
        Map<String, String> env = env(r);
        assertEquals("/etc/starling/auth/passwd", env.get("STARLING_AUTH_PASSWORD_FILE"));
        assertEquals("/etc/starling/auth/acl", env.get("STARLING_AUTH_ACL_FILE"));
        assertEquals("false", env.get("STARLING_AUTH_ALLOW_ANONYMOUS"));
        String before = checksum(r);
        String after = checksum(Chart.render("auth", Map.of("auth.aclFile", "topic read #")));
        assertFalse(before.equals(after), "a new ACL file must change the pod template");
        // An existing Secret: nothing made by the chart, the named one mounted.
        Chart.Rendered existing = Chart.render("default", Map.of("auth.enabled", "true", "auth.existingSecret", "my-auth",
                "tests.username", "u", "tests.password", "p"));
        assertTrue(existing.ofKind("Secret").stream().noneMatch(m -> m.name().endsWith("-auth")));
        assertTrue(existing.text().contains("secretName: my-auth"));
    }

    private static String checksum(Chart.Rendered r) {
        StatefulSet sts = (StatefulSet) ApiTypes.strict(r.one("StatefulSet", Chart.FULLNAME));
        return sts.getSpec().getTemplate().getMetadata().getAnnotations().get("checksum/auth");
    }

    @Test
    void proxyProtocolSwitchSetsTheListenersKey() {
        Map<String, String> env = env(Chart.render("default", Map.of("listeners.tcp.proxyProtocol", "true")));
        assertEquals("true", env.get("STARLING_LISTENER_TCP_PROXY_PROTOCOL"));
        assertEquals("false", env(Chart.render("default")).get("STARLING_LISTENER_TCP_PROXY_PROTOCOL"));
    }

    @Test
    void serviceMonitorScrapesEveryPodThroughTheHeadlessServicesMetricsPort() {
        Chart.Rendered r = Chart.render("monitoring");
        ServiceMonitor sm = (ServiceMonitor) ApiTypes.strict(r.one("ServiceMonitor", Chart.FULLNAME));
        Service headless = (Service) ApiTypes.strict(r.one("Service", Chart.FULLNAME + "-headless"));
        Service client = (Service) ApiTypes.strict(r.one("Service", Chart.FULLNAME));
        Map<String, String> want = sm.getSpec().getSelector().getMatchLabels();
        assertTrue(headless.getMetadata().getLabels().entrySet().containsAll(want.entrySet()));
        assertFalse(client.getMetadata().getLabels().entrySet().containsAll(want.entrySet()), "one scrape per pod, not two");
        assertEquals("metrics", sm.getSpec().getEndpoints().get(0).getPort());
        assertTrue(headless.getSpec().getPorts().stream().anyMatch(p -> p.getName().equals("metrics")));
        assertEquals("kube-prometheus-stack", sm.getMetadata().getLabels().get("release"));
        assertTrue(Chart.render("default").ofKind("ServiceMonitor").isEmpty(), "off by default");
        assertTrue(Chart.render("default").ofKind("PrometheusRule").isEmpty(), "off by default");
    }

    /** Each row: a --set that must be refused, and a piece of helm's message. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "replicaCount=0                          | replicaCount",
            "replicaCount=three                      | replicaCount",
            "service.type=Ingress                    | service.type",
            "service.externalTrafficPolicy=local     | externalTrafficPolicy",
            "listeners.tcp.port=70000                | port",
            "metrics.port=0                          | port",
            "cluster.backupCount=7                   | backupCount",
            "tls.clientAuth=sometimes                | clientAuth",
            "image.repository=                       | repository",
            "image.digest=latest                     | digest",
            "persistence.size=lots                   | size",
            "podAntiAffinityPreset=always            | podAntiAffinityPreset",
            "jvm.maxRamPercentage=99                 | maxRamPercentage",
            "replicas=3                              | replicas",
            "terminationGracePeriodSeconds=35        | preStopSleepSeconds + 30",
            "listeners.tls.enabled=true              | tls.existingSecret",
            "auth.enabled=true                       | auth.existingSecret",
            "config.cluster.port=5702                | config.cluster.port is set by the chart",
            "config.listener\\.host=0.0.0.0          | config.listener.host is set by the chart",
            "metrics.port=1883                       | two ports are the same",
            "listeners.tcp.enabled=false             | no listener is enabled",
    })
    void badValuesAreRefused(String set, String message) {
        int eq = set.indexOf('=');
        Exception e = assertThrows(Exception.class, () -> Chart.render("default", Map.of(set.substring(0, eq), set.substring(eq + 1))),
                "--set " + set + " was accepted");
        assertTrue(e.getMessage().contains(message), "--set " + set + ": " + e.getMessage());
    }

    @Test
    void authWithoutTestCredentialsIsRefusedWhileHelmTestIsOn() {
        Exception e = assertThrows(Exception.class, () -> Chart.render("auth", Map.of("tests.password", "")));
        assertTrue(e.getMessage().contains("set tests.username and tests.password"), e.getMessage());
        assertFalse(Chart.render("auth", Map.of("tests.password", "", "tests.enabled", "false")).manifests().isEmpty());
    }

    @Test
    void theDefaultsAndEveryValueSetAreAccepted() {
        for (String set : new String[] {"default", "tls", "auth", "five-replicas", "monitoring"}) {
            assertFalse(Chart.render(set).manifests().isEmpty(), set);
        }
    }
}
