"""Reusable Keras layers of the kit, one per file, all registered for ``.keras`` files (package ``hybridvid``).

==================  ====================================================================
``TemporalMean``    mean over the time axis, padded frames left out (:mod:`.temporal_mean`)
``PositionEncoding``  sinusoidal or learned position of each step (:mod:`.position_encoding`)
``ClassToken``      a learned step prepended to a sequence (:mod:`.class_token`)
``TransformerBlock``  pre-norm self-attention + MLP, attention weights on request (:mod:`.transformer_block`)
``GraphConv``       ST-GCN spatial graph convolution, K partitions, edge importance (:mod:`.graph_conv`)
``FoldPersons``     the persons of a skeleton clip into the batch, (B, ..., M) -> (BM, ...) (:mod:`.fold_persons`)
``PersonMean``      mean over each clip's persons, (BM, ...) -> (B, ...) (:mod:`.person_mean`)
``TemporalAttention``  additive attention pooling over time, weights returned (:mod:`.temporal_attention`)
``CenterLoss``      Wen et al.'s center loss, centers as saved state updated in training (:mod:`.center_loss`)
``StreamFusion``    streams side by side along the features, concatenated or summed (:mod:`.stream_fusion`)
``FusedBatchNormalization``  Keras' batch norm, trained with TensorFlow's fused kernel (:mod:`.fused_batch_norm`)
==================  ====================================================================

Importing this package registers every layer, so ``keras.saving.load_model`` can read a
model that uses them.

Every layer of this package must pass ``tests.support.layer_test.run_layer_test`` in its test
file (``tests/layers/test_<module>.py``): its config round-trips and holds every init argument,
``build`` makes all weights, output shapes and dtypes match what is documented (under float32
and under each mixed precision policy the layer supports), one ``fit`` step trains it, and a
``.keras`` file saved and reloaded with ``safe_mode=True`` gives equal outputs. Tests of what the
layer computes come in addition to it.
"""

from hybridvid_lib.layers.center_loss import CenterLoss
from hybridvid_lib.layers.class_token import ClassToken
from hybridvid_lib.layers.fold_persons import FoldPersons
from hybridvid_lib.layers.fused_batch_norm import FusedBatchNormalization
from hybridvid_lib.layers.graph_conv import GraphConv
from hybridvid_lib.layers.person_mean import PersonMean
from hybridvid_lib.layers.position_encoding import PositionEncoding
from hybridvid_lib.layers.stream_fusion import StreamFusion
from hybridvid_lib.layers.temporal_attention import TemporalAttention
from hybridvid_lib.layers.temporal_mean import TemporalMean
from hybridvid_lib.layers.transformer_block import TransformerBlock

__all__ = ["CenterLoss", "ClassToken", "FoldPersons", "FusedBatchNormalization", "GraphConv", "PersonMean",
           "PositionEncoding", "StreamFusion", "TemporalAttention", "TemporalMean", "TransformerBlock"]
