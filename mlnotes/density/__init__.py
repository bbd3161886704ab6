"""Density models: probability mass of discrete data (chapters 47-48)."""

from ._ddpm import DDPM
from ._gan import GAN
from ._histogram import Histogram
from ._logistic_mixture import DiscretizedLogisticMixture
from ._made import MADE
from ._pixelcnn import PixelCNN
from ._rnn import RNNDensity
from ._transformer import TransformerAR
from ._vae import VAE
from .flows import MAF, Glow, NeuralSplineFlow, RealNVP

__all__ = ["DDPM", "DiscretizedLogisticMixture", "GAN", "Histogram", "MADE", "PixelCNN",
           "RNNDensity", "TransformerAR", "VAE"]
__all__ += ["Glow", "MAF", "NeuralSplineFlow", "RealNVP"]
