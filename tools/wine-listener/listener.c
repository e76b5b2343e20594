/*
 * Test fixture for the Windows smoke test (.ci/steps/20-windows.sh): a
 * Windows program that opens sockets irdump.exe must then report, each
 * owned by this process.
 *
 *   listener.exe OUTFILE [SECONDS]
 *
 * Opens a TCP listener on 127.0.0.1, connects to it and accepts (an
 * established pair), binds a UDP socket on 127.0.0.1, and a TCP listener on
 * ::1 when IPv6 is available. Ports are chosen by the system (port 0), so
 * nothing collides with other tests. Writes one line to OUTFILE:
 *
 *   pid=<pid> tcp4_listen=<port> tcp4_client=<port> udp4=<port> tcp6_listen=<port or 0>
 *
 * then sleeps SECONDS (default 300) so it is alive during the collection;
 * the CI step kills it when done.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned short local_port(SOCKET s)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (getsockname(s, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void fail(const char *what)
{
    fprintf(stderr, "listener: %s failed: %d\n", what, WSAGetLastError());
    exit(1);
}

int main(int argc, char **argv)
{
    WSADATA wsa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    SOCKET lst, cli, srv, udp, listen6;
    unsigned short p_lst, p_cli, p_udp, p_listen6 = 0;
    DWORD seconds = 300;
    FILE *out;

    if (argc < 2) {
        fprintf(stderr, "usage: listener.exe OUTFILE [SECONDS]\n");
        return 2;
    }
    if (argc > 2)
        seconds = (DWORD)strtoul(argv[2], NULL, 10);
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
        fail("WSAStartup");

    memset(&v4, 0, sizeof v4);
    v4.sin_family = AF_INET;
    v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4.sin_port = 0;

    lst = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (lst == INVALID_SOCKET || bind(lst, (struct sockaddr *)&v4, sizeof v4) != 0)
        fail("tcp4 bind");
    if (listen(lst, 4) != 0)
        fail("listen");
    p_lst = local_port(lst);

    v4.sin_port = htons(p_lst);
    cli = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (cli == INVALID_SOCKET || connect(cli, (struct sockaddr *)&v4, sizeof v4) != 0)
        fail("connect");
    srv = accept(lst, NULL, NULL);
    if (srv == INVALID_SOCKET)
        fail("accept");
    p_cli = local_port(cli);

    v4.sin_port = 0;
    udp = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (udp == INVALID_SOCKET || bind(udp, (struct sockaddr *)&v4, sizeof v4) != 0)
        fail("udp4 bind");
    p_udp = local_port(udp);

    memset(&v6, 0, sizeof v6);
    v6.sin6_family = AF_INET6;
    v6.sin6_addr = in6addr_loopback;
    listen6 = socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    if (listen6 != INVALID_SOCKET && bind(listen6, (struct sockaddr *)&v6, sizeof v6) == 0
        && listen(listen6, 4) == 0)
        p_listen6 = local_port(listen6);

    out = fopen(argv[1], "w");
    if (!out)
        fail("fopen");
    fprintf(out, "pid=%lu tcp4_listen=%u tcp4_client=%u udp4=%u tcp6_listen=%u\n",
            (unsigned long)GetCurrentProcessId(), p_lst, p_cli, p_udp, p_listen6);
    fclose(out);

    Sleep(seconds * 1000);
    return 0;
}
