package io.pgbailiff.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A test class with its own pgbailiff, default settings, in front of {@link TestPostgres}. */
abstract class ProxyTestBase {
    static TestProxy proxy;

    @BeforeAll
    static void startProxy() {
        proxy = TestProxy.start();
    }

    @AfterAll
    static void stopProxy() {
        proxy.close();
    }
}
