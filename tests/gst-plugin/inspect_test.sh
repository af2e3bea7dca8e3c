#!/bin/sh
# gst-inspect-1.0 faceqan and faceqanpublish must load the plugin and document the klass and
# every property.
set -u
inspect=$1
out=$("$inspect" faceqan 2>&1) || { echo "$out"; echo "FAIL: gst-inspect-1.0 faceqan failed"; exit 1; }
status=0
for expected in "Filter/Analyzer/Video" \
    detector-model recognizer-model device precision threads epsilon iterations samples exponent seed \
    batch-size max-latency queue-size overload detection-threshold min-face-size max-faces \
    detection-interval use-upstream-rois quality-threshold mode drop-gaps attach-embedding draw \
    message stats-interval scoring budget-min-interval budget-max-rate budget-max-pending budget-margin \
    budget-min-eye-distance track-max-missed track-min-similarity best-frames best-location \
    best-save-frame best-interval json-location shared-scorer camera-id; do
  if ! printf '%s\n' "$out" | grep -q -- "$expected"; then
    echo "FAIL: '$expected' is not in gst-inspect-1.0 faceqan"
    status=1
  fi
done
# Model and FaceQAN settings are documented as changeable in NULL/READY only.
if ! printf '%s\n' "$out" | grep -A2 '^  recognizer-model' | grep -q 'changeable only in NULL or READY'; then
  echo "FAIL: recognizer-model is not marked as changeable only in NULL or READY"
  status=1
fi
# faceqanpublish, in the same plugin.
out=$("$inspect" faceqanpublish 2>&1) || { echo "$out"; echo "FAIL: gst-inspect-1.0 faceqanpublish failed"; exit 1; }
for expected in "Filter/Metadata" method address topic mqtt-client-id qos max-connect-attempts \
    max-reconnect-interval flush-timeout file-path stats-interval max-queued publish-frames \
    attach-crop tls-ca-file tls-cert-file tls-key-file username password-file; do
  if ! printf '%s\n' "$out" | grep -q -- "$expected"; then
    echo "FAIL: '$expected' is not in gst-inspect-1.0 faceqanpublish"
    status=1
  fi
done
[ $status -eq 0 ] && echo "gst-inspect-1.0 faceqan and faceqanpublish document every property"
exit $status
