# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The official USOT tracker on LaSOT, for the released weights (USOT.pth,
# USOT_star.pth): the official uint8 OpenCV crop (slower, on the host) and the
# official 1-based protocol (the tracker starts from GT - (1, 1) and reports
# boxes + (1, 1), so the metric compares in the coordinates of the ground-truth
# files). See README.md, "Reproducing the official tracker".
_base_ = ['./usot_r50_test-lasot.py']

model = dict(test_cfg=dict(crop_mode='official', one_based_gt=True))
