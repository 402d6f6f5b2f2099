"""Running a suite: plan the cells not yet recorded, prepare the pairs' data, pretrain once per
job, adapt and score every task, and append one record per cell (the driver alone writes)."""
