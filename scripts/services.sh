#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis servers the tests use are running on 127.0.0.1
# (PostgreSQL 5432 with the `postgres` role reachable without a password, Redis 6379).
# Installs them from Debian's packages when they are missing; starts them when they are down.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

install_packages() {
    echo "services: installing $*" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pg_ctlcluster >/dev/null || ! command -v pg_isready >/dev/null; then
    install_packages postgresql
    # A fresh cluster asks for passwords on TCP; the tests use the local `postgres` role.
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
        grep -q "realty-tests" "$hba" || $SUDO sed -i \
            '1i host all postgres 127.0.0.1/32 trust # realty-tests\nhost all postgres ::1/128 trust # realty-tests' "$hba"
    done
fi
if ! postgres_up; then
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    echo "services: starting PostgreSQL $version" >&2
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || \
        $SUDO pg_ctlcluster "$version" main start
fi

if ! command -v redis-server >/dev/null; then
    install_packages redis-server
fi
if ! redis_up; then
    echo "services: starting Redis" >&2
    $SUDO mkdir -p /var/lib/redis /var/log/redis
    $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

for _ in $(seq 1 60); do
    if postgres_up && redis_up; then
        exit 0
    fi
    sleep 0.5
done
echo "services: PostgreSQL or Redis did not come up on 127.0.0.1" >&2
exit 1
