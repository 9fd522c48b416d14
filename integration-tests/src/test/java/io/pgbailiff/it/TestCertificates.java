package io.pgbailiff.it;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * A certificate authority made by the test, and server certificates it signs for
 * {@code localhost} and {@code 127.0.0.1}, written as PEM files the way PostgreSQL, libpq,
 * pgjdbc and pgbailiff read them (PKCS#8 keys, readable by the owner only).
 */
final class TestCertificates {
    private static final AtomicSerial SERIAL = new AtomicSerial();

    /** The PEM files of one CA and one server certificate it signed. */
    record Issued(Path caCert, Path serverCert, Path serverKey) {
    }

    private final String name;
    private final KeyPair caKeys;
    private final X509CertificateHolder caCert;

    private TestCertificates(String name, KeyPair caKeys, X509CertificateHolder caCert) {
        this.name = name;
        this.caKeys = caKeys;
        this.caCert = caCert;
    }

    static TestCertificates newAuthority(String name) {
        KeyPair keys = rsa();
        X500Name subject = new X500Name("CN=" + name);
        try {
            JcaX509v3CertificateBuilder b = builder(subject, subject, keys);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new TestCertificates(name, keys, b.build(signer(keys.getPrivate())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the CA certificate and a server certificate for localhost/127.0.0.1 into {@code dir}. */
    Issued writeServer(Path dir, String serverName) {
        KeyPair keys = rsa();
        try {
            JcaX509v3CertificateBuilder b = builder(caCert.getSubject(), new X500Name("CN=localhost"), keys);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            X509CertificateHolder cert = b.build(signer(caKeys.getPrivate()));
            Path ca = write(dir.resolve(name + "-ca.pem"), pem(caCert));
            Path crt = write(dir.resolve(serverName + ".crt"), pem(cert));
            Path key = write(dir.resolve(serverName + ".key"), pem(keys.getPrivate()));
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            return new Issued(ca, crt, key);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, SERIAL.next(), Date.from(now.minus(Duration.ofDays(1))),
                Date.from(now.plus(Duration.ofDays(30))), subject, keys.getPublic());
    }

    private static ContentSigner signer(PrivateKey key) {
        try {
            return new JcaContentSignerBuilder("SHA256withRSA").build(key);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair rsa() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o instanceof PrivateKey k ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : o);
        }
        return out.toString();
    }

    private static Path write(Path file, String content) throws IOException {
        return Files.writeString(file, content);
    }

    private static final class AtomicSerial {
        private final java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong(System.currentTimeMillis());

        BigInteger next() {
            return BigInteger.valueOf(next.incrementAndGet());
        }
    }
}
