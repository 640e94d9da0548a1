package io.starling.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A rendered manifest read as the Kubernetes API type its apiVersion and kind name (fabric8's
 * generated models, one per OpenAPI definition), strictly: fabric8 keeps a field the type does
 * not have in the object's {@code additionalProperties} instead of failing, so every object of the
 * tree is walked and any such field is an error that names its path, e.g.
 * {@code spec.template.spec.containers[0].readinessprobe}. A wrongly typed value (a string where
 * the API has an object) fails in Jackson already.
 */
final class ApiTypes {
    /** Kinds the chart may render that are custom resources without a typed model here (cert-manager). */
    static final Set<String> UNTYPED = Set.of("cert-manager.io/v1/Certificate");

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    static HasMetadata strict(Chart.Manifest m) {
        HasMetadata resource;
        try {
            resource = SERIALIZATION.unmarshal(m.yaml());
        } catch (RuntimeException e) {
            throw new AssertionError(m.source() + ": not a valid " + m.kind() + ": " + e.getMessage(), e);
        }
        String gvk = resource.getApiVersion() + "/" + resource.getKind();
        if (resource instanceof GenericKubernetesResource) {
            if (!UNTYPED.contains(gvk)) {
                throw new AssertionError(m.source() + ": " + gvk + " is no type known to the Kubernetes API models");
            }
            return resource;
        }
        List<String> unknown = new ArrayList<>();
        walk(resource, "", unknown, new IdentityHashMap<>());
        if (!unknown.isEmpty()) {
            throw new AssertionError(m.source() + ": fields that " + gvk + " does not have: " + unknown);
        }
        return resource;
    }

    private static void walk(Object o, String path, List<String> unknown, Map<Object, Boolean> seen) {
        if (o == null || seen.put(o, Boolean.TRUE) != null) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                walk(e, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (o instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getValue(), path + "[" + e.getKey() + "]", unknown, seen);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method getter : o.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            String name = getter.getName();
            if (!name.startsWith("get") || name.length() == 3 || name.equals("getClass")) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(o);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            String field = Character.toLowerCase(name.charAt(3)) + name.substring(4);
            if (name.equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    for (Object key : extra.keySet()) {
                        unknown.add((path.isEmpty() ? "" : path + ".") + key);
                    }
                }
                continue;
            }
            walk(value, path.isEmpty() ? field : path + "." + field, unknown, seen);
        }
    }

    static KubernetesSerialization serialization() {
        return SERIALIZATION;
    }

    private ApiTypes() {
    }
}
