// The architectures the project covers, in the order the gallery shows them: the paper (title,
// authors, year, and its arXiv id or, for papers not on arXiv, a DOI link), a one-line summary, the names a net may be registered under in
// nets/registry.ts, and the demo page that trains it in the browser once one exists.
// An entry is "live" only when its net is in the registry; the gallery shows the rest as coming.

export interface Architecture {
  /** Short display name. */
  name: string;
  /** Keys the net may have in nets/registry.ts (first match wins). */
  registryKeys: string[];
  paper: { title: string; authors: string; year: number; arxiv?: string; venue?: string; url?: string };
  summary: string;
  /** Its own demo page folder under demos/ (otherwise the generic train/?model=KEY page). */
  page?: string;
  /** Further pages for it (interactive ones), relative to the gallery. */
  pages?: { href: string; text: string }[];
}

export const ARCHITECTURES: readonly Architecture[] = [
  {
    name: 'DCGAN',
    registryKeys: ['dcgan'],
    paper: {
      title: 'Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks',
      authors: 'Alec Radford, Luke Metz, Soumith Chintala',
      year: 2015,
      arxiv: '1511.06434',
    },
    summary: 'All-convolutional generator and discriminator with batch norm: the stable baseline every later GAN builds on.',
    page: 'dcgan',
  },
  {
    name: 'Autoencoder',
    registryKeys: ['autoencoder', 'aae'],
    paper: {
      title: 'Reducing the Dimensionality of Data with Neural Networks',
      authors: 'Geoffrey E. Hinton, Ruslan R. Salakhutdinov',
      year: 2006,
      venue: 'Science 313 (5786)',
      url: 'https://doi.org/10.1126/science.1127647',
    },
    summary: 'An encoder and decoder trained to reconstruct their input through a small code: the baseline that EBGAN and BEGAN turn into discriminators.',
  },
  {
    name: 'EBGAN',
    registryKeys: ['ebgan'],
    paper: {
      title: 'Energy-based Generative Adversarial Network',
      authors: 'Junbo Zhao, Michael Mathieu, Yann LeCun',
      year: 2016,
      arxiv: '1609.03126',
    },
    summary: 'The discriminator is an autoencoder whose reconstruction error is an energy, with a margin loss and a pull-away term.',
  },
  {
    name: 'BEGAN',
    registryKeys: ['began'],
    paper: {
      title: 'BEGAN: Boundary Equilibrium Generative Adversarial Networks',
      authors: 'David Berthelot, Thomas Schumm, Luke Metz',
      year: 2017,
      arxiv: '1703.10717',
    },
    summary: 'Matches autoencoder loss distributions and balances G and D with a proportional control term, giving a convergence measure.',
  },
  {
    name: 'LAPGAN',
    registryKeys: ['lapgan'],
    paper: {
      title: 'Deep Generative Image Models using a Laplacian Pyramid of Adversarial Networks',
      authors: 'Emily Denton, Soumith Chintala, Arthur Szlam, Rob Fergus',
      year: 2015,
      arxiv: '1506.05751',
    },
    summary: 'A cascade of conditional GANs, each generating the band-pass residual of a Laplacian pyramid level, coarse to fine.',
  },
  {
    name: 'StackGAN',
    registryKeys: ['stackgan'],
    paper: {
      title: 'StackGAN: Text to Photo-realistic Image Synthesis with Stacked Generative Adversarial Networks',
      authors: 'Han Zhang, Tao Xu, Hongsheng Li, Shaoting Zhang, Xiaogang Wang, Xiaolei Huang, Dimitris Metaxas',
      year: 2016,
      arxiv: '1612.03242',
    },
    summary: 'Text-to-image in two stages: a sketch from the caption, then a refinement, with conditioning augmentation on the text code.',
  },
  {
    name: 'StackGAN++',
    registryKeys: ['stackganpp', 'stackgan_pp', 'stackgan2', 'stackganv2'],
    paper: {
      title: 'StackGAN++: Realistic Image Synthesis with Stacked Generative Adversarial Networks',
      authors: 'Han Zhang, Tao Xu, Hongsheng Li, Shaoting Zhang, Xiaogang Wang, Xiaolei Huang, Dimitris Metaxas',
      year: 2017,
      arxiv: '1710.10916',
    },
    summary: 'A tree of generators and discriminators at several scales trained jointly, with a colour-consistency regulariser.',
  },
  {
    name: 'GMAN',
    registryKeys: ['gman'],
    paper: {
      title: 'Generative Multi-Adversarial Networks',
      authors: 'Ishan Durugkar, Ian Gemp, Sridhar Mahadevan',
      year: 2016,
      arxiv: '1611.01673',
    },
    summary: 'One generator against several discriminators whose feedback is combined by a softened mean, from adversary to teacher.',
  },
  {
    name: 'MAD-GAN',
    registryKeys: ['madgan', 'mad_gan'],
    paper: {
      title: 'Multi-Agent Diverse Generative Adversarial Networks',
      authors: 'Arnab Ghosh, Viveka Kulharia, Vinay Namboodiri, Philip H. S. Torr, Puneet K. Dokania',
      year: 2017,
      arxiv: '1704.02906',
    },
    summary: 'Several generators and one discriminator that must also tell which generator made a fake, pushing them to different modes.',
  },
  {
    name: 'Triple-GAN',
    registryKeys: ['triplegan', 'triple_gan'],
    paper: {
      title: 'Triple Generative Adversarial Nets',
      authors: 'Chongxuan Li, Kun Xu, Jun Zhu, Bo Zhang',
      year: 2017,
      arxiv: '1703.02291',
    },
    summary: 'A generator, a classifier and a discriminator over (image, label) pairs: semi-supervised classification and class-conditional generation.',
  },
  {
    name: 'pix2pix',
    registryKeys: ['pix2pix'],
    paper: {
      title: 'Image-to-Image Translation with Conditional Adversarial Networks',
      authors: 'Phillip Isola, Jun-Yan Zhu, Tinghui Zhou, Alexei A. Efros',
      year: 2016,
      arxiv: '1611.07004',
    },
    summary: 'Paired translation with a U-Net generator, a PatchGAN discriminator and an L1 term.',
    pages: [{ href: 'draw/', text: 'draw edges → emoji' }],
  },
  {
    name: 'CycleGAN',
    registryKeys: ['cyclegan'],
    paper: {
      title: 'Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks',
      authors: 'Jun-Yan Zhu, Taesung Park, Phillip Isola, Alexei A. Efros',
      year: 2017,
      arxiv: '1703.10593',
    },
    summary: 'Two generators translating between unpaired domains, held together by a cycle-consistency loss.',
  },
  {
    name: 'DualGAN',
    registryKeys: ['dualgan'],
    paper: {
      title: 'DualGAN: Unsupervised Dual Learning for Image-to-Image Translation',
      authors: 'Zili Yi, Hao Zhang, Ping Tan, Minglun Gong',
      year: 2017,
      arxiv: '1704.02510',
    },
    summary: 'Unpaired translation as dual learning: primal and dual generators with Wasserstein critics and a reconstruction loss.',
  },
  {
    name: 'DiscoGAN',
    registryKeys: ['discogan'],
    paper: {
      title: 'Learning to Discover Cross-Domain Relations with Generative Adversarial Networks',
      authors: 'Taeksoo Kim, Moonsu Cha, Hyunsoo Kim, Jung Kwon Lee, Jiwon Kim',
      year: 2017,
      arxiv: '1703.05192',
    },
    summary: 'Discovers relations between two unpaired domains with coupled generators and a reconstruction loss each way.',
  },
  {
    name: 'StarGAN',
    registryKeys: ['stargan'],
    paper: {
      title: 'StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image Translation',
      authors: 'Yunjey Choi, Minje Choi, Munyoung Kim, Jung-Woo Ha, Sunghun Kim, Jaegul Choo',
      year: 2017,
      arxiv: '1711.09020',
    },
    summary: 'One generator translating among many domains, conditioned on a target label, with an auxiliary domain classifier.',
  },
];

export function arxivUrl(id: string): string {
  return `https://arxiv.org/abs/${id}`;
}

/** Where to read the paper, and the link's text. */
export function paperLink(a: Architecture): { href: string; text: string } {
  if (a.paper.arxiv) return { href: arxivUrl(a.paper.arxiv), text: `arXiv:${a.paper.arxiv}` };
  return { href: a.paper.url ?? '#', text: a.paper.venue ?? 'paper' };
}

/** The registry key an architecture is registered under, or null while its net is still to come. */
export function registryKeyOf(a: Architecture, registered: readonly string[]): string | null {
  return a.registryKeys.find((k) => registered.includes(k)) ?? null;
}
