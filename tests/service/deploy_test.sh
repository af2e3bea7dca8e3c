#!/bin/sh
# deploy/: the systemd unit template passes `systemd-analyze verify` (no warning either) with
# ExecStart pointing at this build's faceqan; the Kubernetes Deployment and ConfigMap are valid
# YAML of the expected kinds that refer to each other; the camera list inside the ConfigMap
# passes `faceqan run --check` against the real elements.
#   deploy_test.sh SOURCE_DIR FACEQAN SCRATCH
set -eu
src=$1 faceqan=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch"
fail() { echo "deploy_test: $*" >&2; exit 1; }

command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (package systemd)"
# An instance of the template, as systemctl would load faceqan@check.service.
sed "s|^ExecStart=/usr/bin/faceqan |ExecStart=$faceqan |" "$src/deploy/faceqan@.service" \
  > "$scratch/faceqan@check.service"
grep -q "^ExecStart=$faceqan run /etc/faceqan/%i.yaml" "$scratch/faceqan@check.service" ||
  fail "ExecStart of deploy/faceqan@.service is not '/usr/bin/faceqan run /etc/faceqan/%i.yaml'"
systemd-analyze verify --man=no "$scratch/faceqan@check.service" > "$scratch/verify.log" 2>&1 ||
  { cat "$scratch/verify.log" >&2; fail "systemd-analyze verify failed"; }
if [ -s "$scratch/verify.log" ]; then
  cat "$scratch/verify.log" >&2
  fail "systemd-analyze verify warned about the unit"
fi
echo "systemd-analyze verify: deploy/faceqan@.service OK"

/usr/bin/python3 - "$src/deploy/k8s" "$scratch/cameras.yaml" <<'PY' || fail "deploy/k8s is not valid"
import sys, yaml
folder, out = sys.argv[1], sys.argv[2]
docs = {}
for name in ("deployment.yaml", "configmap.yaml"):
    for doc in yaml.safe_load_all(open(f"{folder}/{name}")):
        assert isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc, name
        docs[doc["kind"]] = doc
deployment, configmap = docs["Deployment"], docs["ConfigMap"]
assert deployment["apiVersion"] == "apps/v1" and configmap["apiVersion"] == "v1"
spec = deployment["spec"]
assert spec["replicas"] == 1, "one faceqan run per camera list"
assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
pod = spec["template"]["spec"]
container = pod["containers"][0]
assert container["args"][:1] == ["run"], container["args"]
config_path = container["args"][1]
volumes = {v["name"]: v for v in pod["volumes"]}
mounts = [m for m in container["volumeMounts"] if config_path.startswith(m["mountPath"] + "/")]
assert mounts, "the config file is on no mounted volume"
volume = volumes[mounts[0]["name"]]
assert volume["configMap"]["name"] == configmap["metadata"]["name"], "the volume is another ConfigMap"
key = config_path[len(mounts[0]["mountPath"]) + 1:]
cameras = configmap["data"][key]
assert yaml.safe_load(cameras)["cameras"], "no cameras in the ConfigMap"
open(out, "w").write(cameras)
print("deploy/k8s: Deployment and ConfigMap OK")
PY
"$faceqan" run --check "$scratch/cameras.yaml" > "$scratch/check.log" 2>&1 ||
  { cat "$scratch/check.log" >&2; fail "faceqan run --check rejects the ConfigMap's camera list"; }
echo "faceqan run --check: the ConfigMap's camera list OK"
