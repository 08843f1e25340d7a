"""`alur serve`, the real gunicorn server, as browsers and API clients meet it.

Threaded workers keep HTTP/1.1 connections alive (a client's requests stay
on the worker that holds its workflows in memory), and a client that is
slow to send its request ties up one thread, not the worker.
"""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.timer_helpers import free_port

ALUR = Path(sys.executable).parent / "alur"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("alur-serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATA_DIR=str(data_dir), ALUR_SECRET_KEY="test-serve")
    subprocess.run([str(ALUR), "init", "--demo"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    log = open(data_dir / "serve.log", "wb")
    proc = subprocess.Popen([str(ALUR), "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (data_dir / "serve.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "alur serve did not listen within 30 s"
                time.sleep(0.1)
        yield port, data_dir / "serve.log"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_one_connection_carries_several_requests(server):
    conn = http.client.HTTPConnection("127.0.0.1", server[0], timeout=10)
    try:
        conn.request("GET", "/masuk")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        assert first.status == 200 and not first.will_close
        conn.request("GET", "/masuk")
        second = conn.getresponse()
        second.read()
        assert second.status == 200
        assert conn.sock is sock  # the same TCP connection: the server kept it open
    finally:
        conn.close()


def test_a_client_slow_to_send_does_not_hold_up_the_others(server):
    with socket.create_connection(("127.0.0.1", server[0]), timeout=10) as slow:
        slow.sendall(b"GET /masuk HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and the rest never comes
        time.sleep(0.2)
        conn = http.client.HTTPConnection("127.0.0.1", server[0], timeout=5)
        try:
            conn.request("GET", "/masuk")
            response = conn.getresponse()
            assert response.status == 200
        finally:
            conn.close()


def test_no_control_socket_is_shared_with_other_servers_on_the_host(server):
    # gunicorn's default control socket is one path per user: a second
    # server (another office's, a test run) would take it over.
    log = server[1].read_text()
    assert "Using worker: gthread" in log and "Control socket" not in log
