#!/usr/bin/env python3
"""fake_vpcd.py PORT READYFILE STEP...: a scripted stand-in for vpcd.

It listens on 127.0.0.1:PORT (the vcard connects to it as it would to vpcd),
touches READYFILE once listening, and plays STEPs on the connection, printing
one line per step (PIV-REFERENCE section 11.2 framing: 2-byte big-endian length,
then the message; control messages are 1 byte, only "get ATR" is answered):

  atr         send 04, print "atr <ATR hex>"
  on | off | reset   send 01 / 00 / 02, print "on -" (no reply expected)
  apdu HEX    send the command, print "apdu HEX <response hex>"
  close       close the connection ("session N done"), accept the next one
  wait        print "session N done" and keep the connection until killed
"""
import socket
import struct
import sys
import time


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("the vcard closed the connection")
        buf += chunk
    return buf


def send_msg(conn, payload):
    conn.sendall(struct.pack(">H", len(payload)) + payload)


def recv_msg(conn):
    (n,) = struct.unpack(">H", recv_exact(conn, 2))
    return recv_exact(conn, n)


def main():
    port, ready, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    open(ready, "w").close()
    session = 0
    conn = None
    for step in steps:
        if conn is None:
            conn, _ = srv.accept()
            session += 1
        word, _, arg = step.partition(" ")
        if word == "atr":
            send_msg(conn, b"\x04")
            print("atr", recv_msg(conn).hex().upper(), flush=True)
        elif word in ("on", "off", "reset"):
            send_msg(conn, {"off": b"\x00", "on": b"\x01", "reset": b"\x02"}[word])
            print(word, "-", flush=True)
        elif word == "apdu":
            send_msg(conn, bytes.fromhex(arg))
            print("apdu", arg, recv_msg(conn).hex().upper(), flush=True)
        elif word == "close":
            conn.close()
            conn = None
            print("session", session, "done", flush=True)
        elif word == "wait":
            print("session", session, "done", flush=True)
            while True:
                time.sleep(1)
        else:
            sys.exit("fake_vpcd: unknown step " + step)


if __name__ == "__main__":
    main()
