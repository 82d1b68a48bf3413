#!/bin/bash
# Runs on the GPU machine (device tool), from the repository root, with .train-data/ carried along:
#   .train-data/shapes-image.safetensors.gz, shapes-video.safetensors.gz  (Java Shapes exports, train split)
#   .train-data/eval-image.safetensors.gz, eval-video.safetensors.gz      (eval split: probes only)
#   .train-data/tokenizer.json, .train-data/eval-captions-{image,video}.txt
# Starts every job of $JOBS at once ("NAME TASK GPU MINUTES TRAIN.PY-ARGS..." separated by ';'; jobs on one GPU share
# it), waits, probes (reference/probe.py) and samples each result, and leaves in $OUT: NAME_ema-*.safetensors
# (EMA weights) and extras.tar (train logs, probe results, sample grids, train.out).
# Resume: pass --resume PREFIX_OR_BUNDLED_FOLDER in a job's arguments (e.g. assets/models/shapes-t2v).
set -u
cd "$(dirname "$0")/.."
D=${D:-.train-data}
EXTRA=${EXTRA:-}   # --tiny for local smoke tests
COMPILE=${COMPILE:---compile}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())'
W=${W:-/tmp/work}; rm -rf $W; mkdir -p $W
NAMES=(); TASKS_OF=(); PIDS=()
IFS=';' read -ra LINES <<<"$JOBS"
for line in "${LINES[@]}"; do
    read -r name task gpu minutes args <<<"$line"
    [ -z "$name" ] && continue
    kind=$([ $task = t2i ] && echo image || echo video)
    mkdir -p $W/$name
    CUDA_VISIBLE_DEVICES=$gpu python3 reference/train.py --task $task --data $D/shapes-$kind.safetensors.gz \
        --tokenizer $D/tokenizer.json --out $W/$name --minutes $minutes $COMPILE $EXTRA $args \
        >$W/$name/train.out 2>&1 &
    PIDS+=($!); NAMES+=($name); TASKS_OF+=($task)
done
TICK=0
while true; do
    alive=0
    for p in "${PIDS[@]}"; do kill -0 $p 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 5; TICK=$((TICK + 5))
    if [ $((TICK % ${POLL:-60})) -eq 0 ]; then
        for n in "${NAMES[@]}"; do grep -E 'step [0-9]+ ' $W/$n/train.out | tail -1; done
        nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv,noheader 2>/dev/null
    fi
done
for i in "${!NAMES[@]}"; do
    n=${NAMES[$i]}; task=${TASKS_OF[$i]}; kind=$([ $task = t2i ] && echo image || echo video)
    wait ${PIDS[$i]}; echo "$n exit $?"; grep -vE 'step [0-9]+ ' $W/$n/train.out | grep -v Warning | tail -6
    for f in $W/$n/${task}_ema-*.safetensors; do cp $f "$OUT/${n}_$(basename $f | sed "s/^${task}_//")"; done
    python3 reference/probe.py --ema $W/$n/${task}_ema --task $task --tokenizer $D/tokenizer.json $EXTRA \
        --data $D/eval-$kind.safetensors.gz --json $W/$n/probe.json 2>&1 | grep -v Warning &
done
wait
for i in "${!NAMES[@]}"; do
    n=${NAMES[$i]}; task=${TASKS_OF[$i]}; kind=$([ $task = t2i ] && echo image || echo video)
    python3 reference/sample.py --ema $W/$n/${task}_ema --task $task --tokenizer $D/tokenizer.json $EXTRA \
        --captions $D/eval-captions-$kind.txt --cfg 4.5 --out $W/$n/samples 2>&1 | grep -v Warning &
done
wait
tar cf "$OUT/extras.tar" -C $W --exclude='*.safetensors' .
ls -la "$OUT"
