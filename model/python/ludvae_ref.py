"""Eager PyTorch reference of the LUD-VAE network (docs/design.md §2.2).

Written from the method description with the authors' parameter names, in
their masked style: the degradation branch and the KL run for every sample
and are multiplied by the per-sample mask. ludvae's tests use it as an
independent implementation (state-dict compatibility, masked-vs-subset
equality), and its benchmarks as the PyTorch-eager baseline.
"""
import torch
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(f, f, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(f, f, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(f, f, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(f, f, 3, padding=1))

    def forward(self, x):
        return self.net(x)


class GauBlock(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.m = nn.Conv2d(f, f, 1)
        self.v = nn.Conv2d(f, f, 1)

    def forward(self, x):
        return self.m(x), self.v(x)


class ProjBlock(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.proj = nn.Conv2d(2 * f, f, 1)

    def forward(self, a, b):
        return self.proj(torch.cat([a, b], dim=1))


def gauss_kl(mq, lsq, mp, lsp):
    return -0.5 + lsp - lsq + 0.5 * (torch.exp(2 * lsq) + (mq - mp) ** 2) / torch.exp(2 * lsp)


class LUDVAE(nn.Module):
    def __init__(self, channels=3, filters=128, levels=3):
        super().__init__()
        f, L = filters, levels
        self.L = L
        self.inconv = nn.Conv2d(channels, f, 1)
        self.inconv_n = nn.Conv2d(channels, f, 1)
        for l in range(1, L + 1):
            setattr(self, "enc_%d" % l, ConvBlock(f))
        for l in range(1, L + 1):
            setattr(self, "enc_n_%d" % l, ConvBlock(f))
        for l in range(L, 0, -1):
            setattr(self, "Gauconv_q_%d" % l, GauBlock(f))
        for l in range(L - 1, 0, -1):
            setattr(self, "Gauconv_p_%d" % l, GauBlock(f))
        for l in range(L, 0, -1):
            setattr(self, "dec_%d" % l, ConvBlock(f))
        setattr(self, "proj_%d" % L, ProjBlock(f))
        for l in range(L - 1, 0, -1):
            setattr(self, "proj_%d" % l, ProjBlock(f))
            setattr(self, "proj_c_%d" % l, ProjBlock(f))
            setattr(self, "proj_n_%d" % l, ProjBlock(f))
        self.outconv = nn.Conv2d(f, channels, 1)

    def m(self, name, l):
        return getattr(self, "%s_%d" % (name, l))

    def features(self, x, conv, enc):
        feats, f = [], conv(x)
        for l in range(1, self.L + 1):
            f = self.m(enc, l)(f)
            feats.append(f)
        return feats

    def decode(self, a, latent):
        """The decoder, top level first: z_l = latent(l, b_l) with b_l the
        decoder's features at level l (a_L at the top). The authors write it
        twice (decode, decode_uncond); training and translation differ only
        in latent."""
        L = self.L
        d = self.m("proj", L)(a[L - 1], latent(L, a[L - 1]))
        for l in range(L - 1, 0, -1):
            d = self.m("dec", l + 1)(d)
            b = self.m("proj_c", l)(d, a[l - 1])
            d = self.m("proj", l)(b, latent(l, b))
        return self.outconv(self.m("dec", 1)(d))

    def forward(self, x, hx, mask, eps=None):
        """Training forward. mask [N] float (1 degraded); eps maps
        "post_l" to ε (else torch.randn_like). Returns (out, kl_sum)."""
        eps = eps or {}
        m = mask.view(-1, 1, 1, 1).to(x.dtype)
        a = self.features(hx, self.inconv, "enc")
        n = self.features(x, self.inconv_n, "enc_n")
        kl = []

        def posterior(l, b):
            if l == self.L:  # prior N(0, 1)
                mq, lsq = self.m("Gauconv_q", l)(n[l - 1])
                mp, lsp = torch.zeros_like(mq), torch.zeros_like(lsq)
            else:
                mq, lsq = self.m("Gauconv_q", l)(self.m("proj_n", l)(b, n[l - 1]))
                mp, lsp = self.m("Gauconv_p", l)(b)
            e = eps.get("post_%d" % l, None)
            e = torch.randn_like(mq) if e is None else e
            kl.append((gauss_kl(mq, lsq, mp, lsp) * m).sum())
            return (mq + torch.exp(lsq) * e) * m

        out = self.decode(a, posterior)
        return out, sum(kl[1:], kl[0])

    def loss(self, x, hx, mask, kl_weight, eps=None):
        out, kl_sum = self(x, hx, mask, eps)
        rec = ((out - x) ** 2).mean()
        denom = mask.sum() * x.shape[1] * x.shape[2] * x.shape[3]
        kl = kl_sum / denom if float(mask.sum()) > 0 else kl_sum * 0
        return rec + kl_weight * kl, rec, kl, out

    @torch.no_grad()
    def translate(self, hx, temperature=1.0, eps=None):
        """C2N from h(x): degradation latents from the prior."""
        eps = eps or {}

        def prior(l, b):
            e = eps.get("prior_%d" % l, None)
            if l == self.L:  # N(0, 1)
                e = torch.randn_like(b) if e is None else e
                return e * temperature
            mp, lsp = self.m("Gauconv_p", l)(b)
            e = torch.randn_like(mp) if e is None else e
            return (mp + torch.exp(lsp) * e) * temperature

        return self.decode(self.features(hx, self.inconv, "enc"), prior)
