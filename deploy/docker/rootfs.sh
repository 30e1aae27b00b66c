#!/bin/sh
# rootfs.sh DIR: lays out in DIR what the runtime image holds besides the binary (which
# the build puts at DIR/inkgraph): a passwd and group naming the unprivileged user
# inkgraph (65532), the CA bundle for outgoing HTTPS (Stripe, LLM providers, S3), /data
# for embedded mode, and /tmp. The Dockerfile's build stage runs it; so does the image
# test (cmd/inkgraph/deploy_test.go), on the host, to build the same runtime stage with
# podman where no base image can be pulled.
set -eu
root=$1
mkdir -p "$root/etc/ssl/certs" "$root/data" "$root/tmp"
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
inkgraph:x:65532:65532:Inkgraph:/data:/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
inkgraph:x:65532:
GROUP
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
chmod 0700 "$root/data"
chmod 1777 "$root/tmp"
