package io.starling.auth;

import io.starling.config.TlsSettings.Identity;
import java.security.MessageDigest;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * The username a verified client certificate stands for. {@code cn} and {@code dn} are what
 * Mosquitto's {@code use_identity_as_username} and {@code use_subject_as_username} give (the DN in
 * RFC 2253 form, as Mosquitto prints it with {@code XN_FLAG_RFC2253}); the SAN kinds take the first
 * entry of that kind; {@code sha256} is the certificate's fingerprint in lowercase hex.
 */
public final class CertificateIdentity {
    // RFC 5280 GeneralName tags.
    private static final int SAN_EMAIL = 1;
    private static final int SAN_DNS = 2;
    private static final int SAN_URI = 6;

    private CertificateIdentity() {
    }

    /** @return the identity, or null when the certificate has none of that kind */
    public static String of(X509Certificate cert, Identity kind) {
        return switch (kind) {
            case NONE -> null;
            case CN -> commonName(cert);
            case DN -> cert.getSubjectX500Principal().getName(javax.security.auth.x500.X500Principal.RFC2253);
            case SAN_DNS -> san(cert, SAN_DNS);
            case SAN_URI -> san(cert, SAN_URI);
            case SAN_EMAIL -> san(cert, SAN_EMAIL);
            case SHA256 -> sha256(cert);
        };
    }

    static String commonName(X509Certificate cert) {
        try {
            LdapName dn = new LdapName(cert.getSubjectX500Principal().getName());
            // With several CNs, the first in the certificate's own (DER) order, as Mosquitto's
            // X509_NAME_get_index_by_NID(.., NID_commonName, -1); LdapName's index 0 is that one
            // (the rightmost in the RFC 2253 string).
            for (Rdn rdn : dn.getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
            return null;
        } catch (InvalidNameException e) {
            return null;
        }
    }

    private static String san(X509Certificate cert, int tag) {
        try {
            var names = cert.getSubjectAlternativeNames();
            if (names == null) {
                return null;
            }
            for (List<?> n : names) {
                if (((Integer) n.get(0)) == tag) {
                    return n.get(1).toString();
                }
            }
            return null;
        } catch (CertificateParsingException e) {
            return null;
        }
    }

    private static String sha256(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (CertificateEncodingException | java.security.NoSuchAlgorithmException e) {
            return null;
        }
    }
}
