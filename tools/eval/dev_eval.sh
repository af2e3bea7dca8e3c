#!/bin/sh
# Regenerates the development-set evaluation of docs/EVALUATION.md: builds the degraded set
# (scripts/make_dev_set.py -> build/dev-set), scores it with FaceQAN (default model; score files
# are kept and reused: delete them to rescore), then runs `faceqan eval` with two evaluation
# models. Results: build/dev-eval/{foamliu,same}.{txt,json,png}, cal_*.json and tables.md.
# Settings: FACEQAN_DEV_L / FACEQAN_DEV_K (default: the paper's 5 and 10, about 1.2 s of one core
# per face) and the cheaper FaceQAN baseline at l 2, k 4. The tables of docs/EVALUATION.md are
# printed into build/dev-eval/tables.md.
set -e
cd "$(dirname "$0")/../.."
L=${FACEQAN_DEV_L:-5}
K=${FACEQAN_DEV_K:-10}
BIN=$PWD/build/bin/faceqan
nice -n 19 scripts/make_dev_set.py --output build/dev-set
cd build/dev-set
ls */*.png > images.txt
[ -f scores_l${L}k${K}.json ] || nice -n 19 $BIN score -l $L -k $K $(cat images.txt) -o scores_l${L}k${K}.json || true
[ -f scores_l2k4.json ] || nice -n 19 $BIN score -l 2 -k 4 $(cat images.txt) -o scores_l2k4.json || true
cd ../..
mkdir -p build/dev-eval
for m in foamliu same; do
  if [ $m = foamliu ]; then rec=recognition/mobilefacenet128_foamliu.onnx; else rec=recognition/mobilefacenet512_faceplugin.onnx; fi
  nice -n 19 $BIN eval build/dev-set --recognizer $rec \
    --scores "FaceQAN (l $L, k $K)=build/dev-set/scores_l${L}k${K}.json" \
    --scores "FaceQAN (l 2, k 4)=build/dev-set/scores_l2k4.json" \
    --calibration-fmr 0.01 --target-fnmr 0.2 \
    -o build/dev-eval/$m.json --plot build/dev-eval/$m.png --calibration build/dev-eval/cal_$m.json \
    --title "degraded dev set, quality: mobilefacenet512_faceplugin, verification: $(basename $rec .onnx)" \
    > build/dev-eval/$m.txt || true
done
/usr/bin/python3 tools/eval/doc_tables.py build/dev-eval/foamliu.txt build/dev-eval/same.txt > build/dev-eval/tables.md
