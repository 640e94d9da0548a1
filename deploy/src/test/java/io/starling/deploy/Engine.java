package io.starling.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.utility.DockerImageName;

/**
 * The container engine the container tests run on: whatever Testcontainers finds (DOCKER_HOST; on
 * CI podman's Docker API, started by deploy/podman/engine). Where none answers, or the images are
 * missing, a test is skipped with the reason, never passed.
 */
final class Engine {
    /** The image Jib wrote (broker-node's package with a base image at hand), loaded once per test JVM. */
    static final Path IMAGE_TAR = Path.of(System.getProperty("starling.image.tar", "../broker-node/target/starling-image.tar"));
    /** Podman names a loaded short name under localhost/. */
    static final DockerImageName STARLING = DockerImageName.parse(
            "localhost/" + System.getProperty("starling.image", "starling:0.1.0-SNAPSHOT"));
    /** HAProxy and Prometheus from Debian (deploy/base-image/build), loaded by deploy/podman/engine. */
    static final DockerImageName TOOLS = DockerImageName.parse("localhost/starling-tools:2");

    private static boolean loaded;

    private Engine() {
    }

    static void assumeAvailable() {
        Assumptions.assumeTrue(DockerClientFactory.instance().isDockerAvailable(),
                "no container engine answers (start one with: eval \"$(deploy/podman/engine start)\")");
    }

    /** The broker's image, freshly built: loaded from its tar so the tests run this build's code. */
    static synchronized DockerImageName starling() throws IOException {
        assumeAvailable();
        if (!loaded) {
            Assumptions.assumeTrue(Files.isRegularFile(IMAGE_TAR), "no image built at " + IMAGE_TAR
                    + ": run deploy/base-image/build, then mvn package");
            try (InputStream in = Files.newInputStream(IMAGE_TAR)) {
                DockerClientFactory.lazyClient().loadImageCmd(in).exec();
            }
            loaded = true;
        }
        return STARLING;
    }

    static DockerImageName tools() {
        assumeAvailable();
        List<?> found = DockerClientFactory.lazyClient().listImagesCmd()
                .withImageNameFilter(TOOLS.asCanonicalNameString()).exec();
        Assumptions.assumeFalse(found.isEmpty(), "no " + TOOLS.asCanonicalNameString()
                + " image: run deploy/base-image/build, then deploy/podman/engine start");
        return TOOLS;
    }

    /** The image's entrypoint, which a wrapper (as Kubernetes' $(VAR) expansion) must end by running. */
    static List<String> entrypoint(DockerImageName image) {
        String[] e = DockerClientFactory.lazyClient().inspectImageCmd(image.asCanonicalNameString()).exec()
                .getConfig().getEntrypoint();
        return e == null ? List.of() : List.of(e);
    }
}
