package io.starling.protocol;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Structural comparison of packets: records field by field, arrays by content, lists element-wise. */
final class PacketComparison {
    private PacketComparison() {
    }

    /** @return null when equal, else the path of the first difference with both values */
    static String difference(Object expected, Object actual) {
        return diff("", expected, actual);
    }

    private static String diff(String path, Object a, Object b) {
        if (a == b) {
            return null;
        }
        if (a == null || b == null) {
            return path + ": " + describe(a) + " != " + describe(b);
        }
        if (a.getClass() != b.getClass()) {
            return path + ": " + a.getClass().getSimpleName() + " != " + b.getClass().getSimpleName();
        }
        if (a instanceof byte[] x) {
            return Arrays.equals(x, (byte[]) b) ? null : path + ": " + describe(a) + " != " + describe(b);
        }
        if (a instanceof int[] x) {
            return Arrays.equals(x, (int[]) b) ? null : path + ": " + describe(a) + " != " + describe(b);
        }
        if (a instanceof List<?> x) {
            List<?> y = (List<?>) b;
            if (x.size() != y.size()) {
                return path + ": size " + x.size() + " != " + y.size();
            }
            for (int i = 0; i < x.size(); i++) {
                String d = diff(path + "[" + i + "]", x.get(i), y.get(i));
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        if (a.getClass().isRecord()) {
            for (RecordComponent c : a.getClass().getRecordComponents()) {
                try {
                    String d = diff(path + "." + c.getName(), c.getAccessor().invoke(a), c.getAccessor().invoke(b));
                    if (d != null) {
                        return d;
                    }
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            return null;
        }
        return Objects.equals(a, b) ? null : path + ": " + describe(a) + " != " + describe(b);
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
