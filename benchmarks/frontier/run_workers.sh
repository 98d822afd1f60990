#!/bin/bash
# N sweep workers over a config file on one GPU machine; results to $OUT/res.jsonl
# usage: OUT=folder bash run_workers.sh CONFIGS.json N DATA.npz
cfg=$1; N=$2; data=$3
nvidia-smi --query-gpu=name,memory.used --format=csv
for k in $(seq 0 $((N-1))); do
  python3 "$(dirname "$0")/sweep_torch.py" $OUT/res.jsonl $cfg $k $N $data > $OUT/log$k.txt 2>&1 &
done
wait
cat $OUT/log*.txt | tail -50
