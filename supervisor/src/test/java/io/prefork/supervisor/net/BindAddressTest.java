package io.prefork.supervisor.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.supervisor.UsageException;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class BindAddressTest {
    @Test
    void parsesTheThreeForms() throws Exception {
        assertEquals("127.0.0.1:8080", BindAddress.parse("127.0.0.1:8080").toString());
        assertEquals("[::1]:0", BindAddress.parse("[::1]:0").toString());
        assertEquals("[::]:80", BindAddress.parse("[::]:80").toString());
        assertEquals("unix:/run/app.sock", BindAddress.parse("unix:/run/app.sock").toString());
        assertEquals("unix:@abstract", BindAddress.parse("unix:@abstract").toString());
        assertTrue(BindAddress.parse("unix:rel.sock").unixPath().startsWith("/"), "relative paths become absolute");
    }

    @Test
    void rejectsNonsenseWithOneClearLine() {
        assertEquals("bad address 'nonsense': expected HOST:PORT, [IPV6]:PORT or unix:PATH",
                assertThrows(UsageException.class, () -> BindAddress.parse("nonsense")).getMessage());
        assertEquals("bad address '127.0.0.1:99999': the port must be a number from 0 to 65535",
                assertThrows(UsageException.class, () -> BindAddress.parse("127.0.0.1:99999")).getMessage());
        assertEquals("bad address '::1:80': put an IPv6 address in brackets, like [::1]:8080",
                assertThrows(UsageException.class, () -> BindAddress.parse("::1:80")).getMessage());
        assertEquals("bad address '[127.0.0.1]:80': only IPv6 addresses go in brackets",
                assertThrows(UsageException.class, () -> BindAddress.parse("[127.0.0.1]:80")).getMessage());
        assertEquals("bad address 'unix:': the unix socket path is empty",
                assertThrows(UsageException.class, () -> BindAddress.parse("unix:")).getMessage());
        assertTrue(assertThrows(UsageException.class, () -> BindAddress.parse("unix:/" + "x".repeat(120)))
                .getMessage().contains("at most 107 bytes"));
    }

    @Test
    void formatsIpv6AsRfc5952() throws Exception {
        assertEquals("::1", BindAddress.compressIpv6(InetAddress.getByName("::1").getAddress()));
        assertEquals("::", BindAddress.compressIpv6(InetAddress.getByName("::").getAddress()));
        assertEquals("2001:db8::1", BindAddress.compressIpv6(InetAddress.getByName("2001:db8:0:0:0:0:0:1").getAddress()));
        assertEquals("2001:db8:0:1:1:1:1:1", BindAddress.compressIpv6(InetAddress.getByName("2001:db8:0:1:1:1:1:1").getAddress()));
        assertEquals("1:0:0:2::3", BindAddress.compressIpv6(InetAddress.getByName("1:0:0:2:0:0:0:3").getAddress()));
    }
}
