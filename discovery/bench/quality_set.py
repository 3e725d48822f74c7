"""The fixed request set of the LLM quality benchmark (discovery.bench.llm_quality): 30 ideas in
the three shapes users type (one sentence, a proposal paragraph, problem / method / findings
fields) over topics the 49k ML corpus covers, some close to well-known papers and some not, and
5 problems for idea runs. Written for this benchmark; not tuned on.
"""
from discovery.bench.ideas import PROBLEMS as IDEA_PROBLEMS

SENTENCES = [
    "Quantize the weights of large language models to 4 bits with a learned rounding to serve them on one GPU.",
    "Use contrastive pre-training on paired images and captions to get zero-shot image classifiers.",
    "Detect out-of-distribution inputs by the energy score of a classifier's logits.",
    "Train graph neural networks on molecules with a self-supervised masked-atom objective to predict toxicity.",
    "Prune attention heads of a trained transformer by their gradient importance without retraining.",
    "Let a language model call a calculator and a search engine through special tokens learned from its own samples.",
    "Learn a reward model from pairwise human preferences and fine-tune a dialogue model with PPO against it.",
    "Use diffusion models to generate synthetic training images for rare classes in long-tailed recognition.",
    "Estimate the uncertainty of a regression network by training an ensemble of five networks with different seeds.",
    "Translate sign language videos into text with a pose-based transformer trained on weather broadcasts.",
]

PARAGRAPHS = [
    "Federated learning suffers when clients hold very different data. We propose to share a small set of "
    "synthetic samples distilled on each client so that the server can correct the drift of local updates. "
    "We expect faster convergence than FedAvg on non-IID splits of CIFAR-10.",
    "Retrieval-augmented generation still hallucinates when the retrieved passages disagree. We will train a "
    "verifier that scores each generated sentence against the passages and regenerate the sentences it rejects. "
    "We expect fewer unsupported claims on open-domain question answering.",
    "Neural machine translation for low-resource languages lacks parallel data. We back-translate monolingual "
    "text iteratively with two models that improve each other, and expect BLEU gains on English-Nepali.",
    "Autonomous driving perception fails at night. We propose to adapt a daytime detector to night images with "
    "an image-to-image translation network trained without paired data, and expect higher detection recall at night.",
    "Recommender systems amplify popular items. We plan to re-rank recommendations with a calibration constraint "
    "that matches the genre distribution of each user's history, and expect more diverse lists at equal accuracy.",
    "Protein structure prediction from a single sequence is hard without alignments. We will distil a large "
    "protein language model into a small structure module and expect accuracy close to alignment-based methods.",
    "Vision transformers need large datasets. We add a convolutional stem and strong augmentation so that they "
    "train well on ImageNet alone, and expect them to match ResNets at equal compute.",
    "Speech recognition models are large for phones. We prune and quantize a conformer jointly during training "
    "and expect a 4x smaller model with less than one point more word error rate.",
    "Large language models forget earlier tasks when fine-tuned in sequence. We propose to keep a low-rank adapter "
    "per task and merge them by their Fisher information, expecting less forgetting than replay.",
    "Tabular data is still dominated by gradient-boosted trees. We will pre-train a transformer on many synthetic "
    "tabular tasks so it predicts new tasks in context, and expect it to beat boosting on small datasets.",
]

FIELDS = [
    {"problem": "Large language models are too large to run on laptops.",
     "method": "We quantize every linear layer to 8-bit integers with vector-wise scaling and keep outlier feature "
               "dimensions in 16-bit.",
     "findings": "Memory halves while perplexity stays within one percent of full precision."},
    {"problem": "Object detectors need many labelled boxes.",
     "method": "We train a detector from image-level labels with multiple-instance learning over region proposals.",
     "findings": "Detection accuracy reaches 80% of the fully supervised detector."},
    {"problem": "Reinforcement learning agents explore poorly when rewards are sparse.",
     "method": "We give the agent an intrinsic reward equal to the prediction error of a randomly initialised network.",
     "findings": "The agent solves hard-exploration Atari games such as Montezuma's Revenge."},
    {"problem": "Text classifiers are fooled by small word substitutions.",
     "method": "We certify robustness by randomised smoothing over synonym substitutions.",
     "findings": "Certified accuracy improves on IMDB and AG News."},
    {"problem": "Knowledge graphs are incomplete.",
     "method": "We embed entities as rotations in complex space and score triples by distance.",
     "findings": "Link prediction improves on FB15k-237 and WN18RR."},
    {"problem": "Video models are expensive to train.",
     "method": "We factorise space-time attention into separate spatial and temporal attention blocks.",
     "findings": "Accuracy on Kinetics matches 3D convolutions at a third of the compute."},
    {"problem": "Music generation models lose long-range structure.",
     "method": "We use relative positional attention in a transformer over symbolic music events.",
     "findings": "Generated pieces keep motifs over minutes, as rated by listeners."},
    {"problem": "Medical image segmentation has few annotated scans.",
     "method": "We pre-train a U-Net by predicting rotations and masked patches of unlabelled CT volumes.",
     "findings": "Dice scores improve with 10% of the labels."},
    {"problem": "Language models reason poorly on multi-step arithmetic word problems.",
     "method": "We prompt the model with worked examples that spell out intermediate reasoning steps.",
     "findings": "Accuracy on GSM8K rises sharply for the largest models."},
    {"problem": "Crop yield forecasting from satellite images is unreliable in drought years.",
     "method": "We combine a recurrent network over image time series with soil moisture readings from ground sensors.",
     "findings": ""},
]

IDEAS = [{"text": t} for t in SENTENCES + PARAGRAPHS] + FIELDS

PROBLEMS = IDEA_PROBLEMS  # the idea benchmark's five
