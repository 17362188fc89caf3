#!/bin/bash
# Follow-up of benchmarks/results/dwidth_transfer_cpu.md: HRTEM particle segmentation with
# HRNet fine-tuned from the bare pretext run (width-18 critic) under other head / BatchNorm
# settings. Needs the pretext runs of `dwidth_transfer.py --out runs/dwidth` (PRETRAIN).
# Usage: benchmarks/hrnet_hrtem_head_check.sh VARIANT [override ...]   (seeds 0..2, 1 thread)
#   e.g. benchmarks/hrnet_hrtem_head_check.sh frozen train.norm_stats=frozen
PRETRAIN=${PRETRAIN:-runs/dwidth/pretrain}
EMKIT=${EMKIT:-emkit}
v=$1; shift
for s in 0 1 2; do
  [ -f runs/hrtem-head/$v-s$s/metrics.csv ] && grep -q test_dice runs/hrtem-head/$v-s$s/metrics.csv && continue
  rm -rf runs/hrtem-head/$v-s$s; mkdir -p runs/hrtem-head
  OMP_NUM_THREADS=1 $EMKIT run generator=hrnet task=segmentation data=synthetic-hrtem data.size=128 task.crop=96 task.pos_weight=2.0 init=$PRETRAIN/seed$s/d18 data.length=24 data.val_length=16 data.test_length=32 train.batch_size=4 train.epochs=20 train.schedule=constant "eval_epochs=[3,10,20]" train.device=cpu train.log_every=25 seed=$s runs_dir=runs/hrtem-head name=$v-s$s "$@" > runs/hrtem-head/$v-s$s.log 2>&1
done
