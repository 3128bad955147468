#!/usr/bin/env python3
"""A minimal HTTP CONNECT proxy for the tunnel tests (RFC 9110 9.3.6).

usage: connect_proxy.py LISTEN_ADDR PORT USER PASSWORD
Accepts one CONNECT with Basic credentials USER:PASSWORD (407 otherwise),
then relays bytes both ways until either side closes. Prints READY.
"""
import base64
import socket
import sys
import threading


def relay(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    addr, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((addr, port))
    server.listen(4)
    print("READY", flush=True)
    while True:
        client, _ = server.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(1)
            if not chunk:
                break
            head += chunk
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        if method != "CONNECT" or headers.get("proxy-authorization") != want:
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            client.close()
            continue
        host, tport = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(tport)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        print(f"CONNECT {target}", flush=True)
        threading.Thread(target=relay, args=(client, upstream), daemon=True).start()
        threading.Thread(target=relay, args=(upstream, client), daemon=True).start()


if __name__ == "__main__":
    main()
