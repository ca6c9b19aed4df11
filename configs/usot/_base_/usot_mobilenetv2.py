# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# A light USOT for CPUs and laptops: the USOT network with an ImageNet
# MobileNetV2 up to its 96-channel stage (features.13; output stride 8, the
# same 127 -> 15, 255 -> 31 cell geometry as the ResNet-50) and a
# 128-channel head: 4.4 M parameters instead of 29.4 M. The 160/320-channel
# stages are left out: at stride 8 their 960-wide expansions would cost
# more than the rest of the network. Pretrained weights: `make
# weights` writes them to ~/.cache/mmusot/weights (MMUSOT_CACHE), with the
# ImageNet input normalisation folded into the stem, so the network takes
# USOT's raw BGR 0-255 input like the ResNet-50 version.
_base_ = ['./usot_r50.py']

pretrained = (
    '{{$MMUSOT_CACHE:~/.cache/mmusot}}'
    '/weights/sot_mobilenet_v2_imagenet_bgr255.pth'
)
backbone_channels = 96  # features.13
last_block = 13
channels = 128

model = dict(
    backbone=dict(
        _delete_=True,
        type='SOTMobileNetV2',
        out_indices=(last_block,),
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.'
        ),
    ),
    neck=dict(in_channels=[backbone_channels], out_channels=channels),
    head=dict(in_channels=channels),
)
