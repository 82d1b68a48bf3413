#!/bin/bash
# Runs on the GPU machine (device tool), from the repository root, with .train-data/ carried along:
#   .train-data/shapes-image.safetensors.gz, shapes-video.safetensors.gz  (Java Shapes exports)
#   .train-data/tokenizer.json, .train-data/eval-captions-{image,video}.txt
#   .train-data/resume/{t2i,t2v}_ema-*.safetensors  (optional: continue from an earlier call)
# Checks the Hugging Face cross-references, trains t2i and t2v concurrently on the one GPU for $MINUTES, samples
# grids, and leaves in $OUT: {t2i,t2v}_ema-*.safetensors, {t2i,t2v}_log.json, train.out, samples.tar.
set -u
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-7}
MINUTES_I=${MINUTES_I:-$MINUTES}   # t2i may stop earlier: t2v then has the GPU to itself
MINUTES_V=${MINUTES_V:-$MINUTES}
ARGS_I=${ARGS_I:-}                  # more train.py arguments per task (e.g. --p2-gamma 0.5)
ARGS_V=${ARGS_V:-}
TASKS=${TASKS:-"t2i t2v"}           # which models to train and sample
LR_I=${LR_I:-3e-4}
LR_V=${LR_V:-3e-4}
WARMUP=${WARMUP:-300}
COMPILE=${COMPILE:---compile}
BATCH_I=${BATCH_I:-512}
BATCH_V=${BATCH_V:-128}
EXTRA=${EXTRA:-}   # --tiny for local smoke tests
D=${D:-.train-data}
DATA_I=${DATA_I:-$D/shapes-image.safetensors.gz}
DATA_V=${DATA_V:-$D/shapes-video.safetensors.gz}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())'

resume() { ls $D/resume/$1_ema-*.safetensors >/dev/null 2>&1 && echo "--resume $D/resume/$1_ema"; }
P1=
P2=
want() { case " $TASKS " in *" $1 "*) return 0;; esac; return 1; }
want t2i && python3 reference/train.py --task t2i --data "$DATA_I" --tokenizer $D/tokenizer.json $EXTRA \
    --out "$OUT" --minutes "$MINUTES_I" --batch "$BATCH_I" --lr "$LR_I" --warmup "$WARMUP" $COMPILE $(resume t2i) $ARGS_I \
    >>"$OUT/train.out" 2>&1 &
want t2i && P1=$!
want t2v && python3 reference/train.py --task t2v --data "$DATA_V" --tokenizer $D/tokenizer.json $EXTRA \
    --out "$OUT" --minutes "$MINUTES_V" --batch "$BATCH_V" --lr "$LR_V" --warmup "$WARMUP" $COMPILE $(resume t2v) $ARGS_V \
    >>"$OUT/train.out" 2>&1 &
want t2v && P2=$!
# the Hugging Face cross-checks need no GPU: run them while training starts
python3 reference/verify_hf.py $D/tokenizer.json $D/eval-captions-image.txt $D/eval-captions-video.txt \
    2>&1 | grep -v Warning | tail -8
# progress into the reply while both run
TICK=0
while { [ -n "$P1" ] && kill -0 $P1 2>/dev/null; } || { [ -n "$P2" ] && kill -0 $P2 2>/dev/null; }; do
    sleep 5
    TICK=$((TICK + 5))
    if [ $((TICK % ${POLL:-60})) -eq 0 ]; then
        grep -E 'step [0-9]+ ' "$OUT/train.out" | tail -2
        nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
    fi
done
R1=-; R2=-
[ -n "$P1" ] && { wait $P1; R1=$?; }
[ -n "$P2" ] && { wait $P2; R2=$?; }
echo "exit codes t2i $R1 t2v $R2"
grep -vE 'step [0-9]+ ' "$OUT/train.out" | grep -v Warning | tail -30

S=/tmp/samples; mkdir -p $S
# sample grids from the final EMA weights (default captions and the first eval captions)
for task in $TASKS; do
    kind=$([ $task = t2i ] && echo image || echo video)
    python3 reference/sample.py --ema "$OUT/${task}_ema" --task $task --tokenizer $D/tokenizer.json $EXTRA \
        --captions $D/eval-captions-$kind.txt --cfg 2,4.5 --out $S/$task 2>&1 | grep -v Warning
done
tar cf "$OUT/samples.tar" -C $S .
ls -la "$OUT"
