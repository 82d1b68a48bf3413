"""DDPM schedule, the epsilon training objective, and two samplers.

- `Schedule`: linear betas 1e-4..0.02 over 1000 steps (float64), as PixArt / Open-Sora v1.0 / DiT.
- `DpmSolverPP`: PixArt-alpha's own DPM-Solver++ (`diffusion/model/dpm_solver.py`): discrete VP schedule with
  piecewise-linear log-alpha, t from linspace(1, 1e-3, N+1), model time 1000 (t - 1e-3), multistep order 2,
  lower order final only when N < 10, no final denoise.
- `Ddim`: diffusers DDIMScheduler, eta 0, "leading" spacing, set_alpha_to_one.
The model callback `eps_fn(x, t_model)` returns the (already guided) noise prediction; `cfg_eps` builds it.
"""
import numpy as np
import torch


class Schedule:
    def __init__(self, num_steps=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float32):
        self.num_steps = num_steps
        self.betas = torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
        self.alphas_cumprod = torch.cumprod(1 - self.betas, dim=0)
        self.log_alpha = 0.5 * torch.log(1 - self.betas).cumsum(dim=0)  # log sqrt(alpha_bar)
        self.dtype = dtype

    # ---- training ----
    def q_sample(self, x0, t, noise):
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, t integer [B]."""
        abar = self.alphas_cumprod.to(x0.device)[t].to(x0.dtype)
        shape = (-1,) + (1,) * (x0.dim() - 1)
        return abar.sqrt().view(shape) * x0 + (1 - abar).sqrt().view(shape) * noise

    # ---- continuous time (DPM-Solver's discrete VP wrapper) ----
    def log_alpha_at(self, t):
        """Piecewise-linear log alpha at continuous t in [1/N, 1]; keypoints t_i = (i+1)/N."""
        t_array = np.linspace(0.0, 1.0, self.num_steps + 1)[1:]
        return float(np.interp(float(t), t_array, self.log_alpha.numpy()))

    def alpha_sigma_lambda(self, t):
        la = self.log_alpha_at(t)
        alpha = np.exp(la)
        sigma = np.sqrt(1.0 - np.exp(2.0 * la))
        return alpha, sigma, la - np.log(sigma)


def cfg_eps(model_eps, cond, uncond, scale):
    """Classifier-free guidance: one batch [uncond, cond] per call, eps = u + s (c - u).

    model_eps(x2, t2, c2) gets the doubled batch; cond/uncond are tensors concatenated along dim 0."""
    def eps_fn(x, t):
        x2, t2 = torch.cat([x, x]), torch.cat([t, t])
        c2 = [torch.cat([u, c]) for u, c in zip(uncond, cond)] if isinstance(cond, (tuple, list)) \
            else torch.cat([uncond, cond])
        e_u, e_c = model_eps(x2, t2, c2).chunk(2)
        return e_u + scale * (e_c - e_u)
    return eps_fn


class DpmSolverPP:
    def __init__(self, schedule, steps=20, order=2, lower_order_final=True):
        self.s = schedule
        self.steps, self.order, self.lower_order_final = steps, order, lower_order_final

    def timesteps(self):
        return np.linspace(1.0, 1.0 / self.s.num_steps, self.steps + 1)

    def model_time(self, t):
        return (t - 1.0 / self.s.num_steps) * 1000.0

    def data_pred(self, eps_fn, x, t):
        alpha, sigma, _ = self.s.alpha_sigma_lambda(t)
        tt = torch.full((x.shape[0],), self.model_time(t), dtype=x.dtype, device=x.device)
        eps = eps_fn(x, tt)
        return (x - sigma * eps) / alpha

    def first_update(self, x, s, t, m_s):
        _, sigma_s, lam_s = self.s.alpha_sigma_lambda(s)
        alpha_t, sigma_t, lam_t = self.s.alpha_sigma_lambda(t)
        phi_1 = np.expm1(-(lam_t - lam_s))
        return (sigma_t / sigma_s) * x - (alpha_t * phi_1) * m_s

    def second_update(self, x, models, times, t):
        m1, m0 = models[-2], models[-1]
        t1, t0 = times[-2], times[-1]
        _, _, lam_1 = self.s.alpha_sigma_lambda(t1)
        _, sigma_0, lam_0 = self.s.alpha_sigma_lambda(t0)
        alpha_t, sigma_t, lam_t = self.s.alpha_sigma_lambda(t)
        h_0, h = lam_0 - lam_1, lam_t - lam_0
        d1 = (1.0 / (h_0 / h)) * (m0 - m1)
        phi_1 = np.expm1(-h)
        return (sigma_t / sigma_0) * x - (alpha_t * phi_1) * m0 - 0.5 * (alpha_t * phi_1) * d1

    def sample(self, x, eps_fn):
        ts = self.timesteps()
        times, models = [ts[0]], [self.data_pred(eps_fn, x, ts[0])]
        for step in range(1, self.order):
            x = self.first_update(x, times[-1], ts[step], models[-1])
            times.append(ts[step])
            models.append(self.data_pred(eps_fn, x, ts[step]))
        for step in range(self.order, self.steps + 1):
            order = min(self.order, self.steps + 1 - step) \
                if self.lower_order_final and self.steps < 10 else self.order
            t = ts[step]
            x = self.first_update(x, times[-1], t, models[-1]) if order == 1 else \
                self.second_update(x, models, times, t)
            times, models = times[1:] + [t], models[1:] + [models[-1]]
            if step < self.steps:
                models[-1] = self.data_pred(eps_fn, x, t)
        return x


class Ddim:
    def __init__(self, schedule, steps=50):
        self.s, self.steps = schedule, steps

    def timesteps(self):
        ratio = self.s.num_steps // self.steps
        return (np.arange(0, self.steps) * ratio)[::-1].copy()

    def sample(self, x, eps_fn, trajectory=None):
        ratio = self.s.num_steps // self.steps
        abar = self.s.alphas_cumprod
        for t in self.timesteps():
            tt = torch.full((x.shape[0],), float(t), dtype=x.dtype, device=x.device)
            eps = eps_fn(x, tt)
            a_t = abar[t].item()
            a_prev = abar[t - ratio].item() if t - ratio >= 0 else 1.0
            x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
            x = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
            if trajectory is not None:
                trajectory.append(x)
        return x
