package io.starling.protocol;

import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Structural comparison of packets: records field by field, arrays by content, lists element-wise. */
final class PacketComparison {
    private PacketComparison() {
    }

    /** Record accessors per class: Class.getRecordComponents builds them anew on every call, which dominated the fuzz tests. */
    private static final ClassValue<Method[]> ACCESSORS = new ClassValue<>() {
        @Override
        protected Method[] computeValue(Class<?> type) {
            RecordComponent[] components = type.getRecordComponents();
            Method[] accessors = new Method[components.length];
            for (int i = 0; i < components.length; i++) {
                accessors[i] = components[i].getAccessor();
            }
            return accessors;
        }
    };

    /** @return null when equal, else the path of the first difference with both values */
    static String difference(Object expected, Object actual) {
        return diff(expected, actual);
    }

    /** The path is built only on the way back from a difference: equal packets cost no strings. */
    private static String diff(Object a, Object b) {
        if (a == b) {
            return null;
        }
        if (a == null || b == null) {
            return ": " + describe(a) + " != " + describe(b);
        }
        if (a.getClass() != b.getClass()) {
            return ": " + a.getClass().getSimpleName() + " != " + b.getClass().getSimpleName();
        }
        if (a instanceof byte[] x) {
            return Arrays.equals(x, (byte[]) b) ? null : ": " + describe(a) + " != " + describe(b);
        }
        if (a instanceof int[] x) {
            return Arrays.equals(x, (int[]) b) ? null : ": " + describe(a) + " != " + describe(b);
        }
        if (a instanceof List<?> x) {
            List<?> y = (List<?>) b;
            if (x.size() != y.size()) {
                return ": size " + x.size() + " != " + y.size();
            }
            for (int i = 0; i < x.size(); i++) {
                String d = diff(x.get(i), y.get(i));
                if (d != null) {
                    return "[" + i + "]" + d;
                }
            }
            return null;
        }
        if (a.getClass().isRecord()) {
            for (Method accessor : ACCESSORS.get(a.getClass())) {
                try {
                    String d = diff(accessor.invoke(a), accessor.invoke(b));
                    if (d != null) {
                        return "." + accessor.getName() + d;
                    }
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            return null;
        }
        return Objects.equals(a, b) ? null : ": " + describe(a) + " != " + describe(b);
    }

    static String describe(Object o) {
        if (o instanceof byte[] b) {
            return b.length > 32 ? "byte[" + b.length + "]" : Arrays.toString(b);
        }
        if (o instanceof int[] i) {
            return Arrays.toString(i);
        }
        return String.valueOf(o);
    }
}
