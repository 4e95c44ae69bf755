"""The published sources loopnest quotes and checks against, named so that a reader can look them up.

Code comments and the development notes call the first five "seed 000" to "seed 004"; everything
a user reads (CLI output, reports, docs) cites them by these names instead.
"""

SEEDS = {
    "000": "Sze, Chen, Emer, Suleiman, Zhang, 'Hardware for Machine Learning: Challenges and Opportunities' (MIT tutorial; CICC 2017)",
    "001": "Sze, 'How to Evaluate Efficient Deep Neural Network Approaches' (MIT talk, 2020)",
    "002": "Keutzer et al., 'Co-Design of Deep Neural Nets and NN Accelerators' (UC Berkeley talk)",
    "003": "Dally, 'Hardware for Deep Learning' (Stanford Platform Lab retreat, June 2016)",
    "004": "Yang, Sze, 'Design Considerations for Efficient Deep Neural Networks on Processing-in-Memory Accelerators' (IEDM 2019)",
}
ISCA2016 = "Chen, Emer, Sze, 'Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for CNNs', ISCA 2016"
EYERISS_CHIP = "Chen et al., Eyeriss chip measurements (JSSC 2017), AlexNet CONV1-5, batch 4, as quoted by Sze et al. (CICC 2017 tutorial)"
SHEET = "eyeriss.mit.edu/benchmarking.html, Sze et al., CICC 2017 tutorial"
GOOGLENET_PIE = "Yang et al., CVPR 2017, GoogLeNet energy by data type, as quoted by Sze (2020 talk)"
EYEXAM = "Chen et al., 'Eyexam', arXiv:1807.07928"
ROOFLINE = "Williams, Waterman, Patterson, 'Roofline', CACM 2009"
