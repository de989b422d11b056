//! An ensemble of classifiers (the seed report's §3.1.1, its stated alternative to MC dropout):
//! K models of one architecture, trained apart (different seeds, or different halves of the
//! training set), whose prediction is the **mean of their softmaxes** and whose uncertainty is
//! the spread of the members' answers.
//!
//! As a [`Classifier`] an ensemble's logits are `log((1/K) Σ_k softmax(f_k(x)))`, computed as a
//! log-mean-exp of the members' log-softmaxes (no `log 0`). Their softmax is exactly the mean
//! prediction, so every attack, which differentiates the cross-entropy of the softmax of the
//! logits, attacks the ensemble's mean prediction white-box: the "average of probabilities"
//! ensemble attack (Liu et al., *Delving into Transferable Adversarial Examples*, ICLR 2017,
//! ensemble of softmax outputs; torchattacks' `MultiAttack` only chains attacks, ART attacks an
//! `EnsembleClassifier` through its averaged output the same way).
//!
//! Open choice: averaging probabilities rather than logits. Probabilities are what the ensemble
//! predicts and what its uncertainty (variance, entropy, mutual information) is measured on, so
//! the attack differentiates the very prediction it is judged by.
//!
//! An ensemble has no dropout layers: [`Classifier::dropout_shapes`] is empty and
//! [`Classifier::forward_masked`] returns the K members' log-softmaxes `[K, classes]`, one row per
//! member (an ensemble's "passes" are its members). Training an ensemble means training its
//! members one by one (`quiver train --ensemble`), so [`Classifier::forward_train`] is the plain
//! forward.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor};

use super::{Architecture, Classifier, Model};

/// Why a set of models cannot be one ensemble.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EnsembleError {
    #[error("an ensemble needs at least one member")]
    Empty,
    #[error("ensemble member {member} is a {found} model, member 1 a {first} model: every member must have the same architecture")]
    Mixed { member: usize, first: &'static str, found: &'static str },
    #[error("ensemble member {0} is itself an ensemble")]
    Nested(usize),
}

/// K models whose prediction is the mean of their softmaxes.
#[derive(Clone, Debug)]
pub struct Ensemble {
    members: Vec<Model>,
}

impl Ensemble {
    /// An ensemble of `members` (member 1 first): at least one, one architecture, none an ensemble.
    pub fn new(members: Vec<Model>) -> Result<Self, EnsembleError> {
        let first = members.first().ok_or(EnsembleError::Empty)?.architecture();
        for (i, m) in members.iter().enumerate() {
            if matches!(m, Model::Ensemble(_)) {
                return Err(EnsembleError::Nested(i + 1));
            }
            if m.architecture() != first {
                return Err(EnsembleError::Mixed { member: i + 1, first: first.name(), found: m.architecture().name() });
            }
        }
        Ok(Ensemble { members })
    }

    pub fn members(&self) -> &[Model] {
        &self.members
    }

    /// The ensemble's uncertainty about one image `[1, C, H, W]`, in MC dropout's terms: the
    /// members' softmaxes play the passes (mean, variance across members, entropy of the mean,
    /// mutual information, agreement), `passes` = K. CPU read-back.
    pub fn summary(&self, x: Tensor<4>) -> crate::mc_dropout::McSummary {
        let rows = burn::tensor::activation::softmax(self.forward_masked(x, &[]), 1);
        let k = rows.dims()[1];
        crate::mc_dropout::McSummary::from_probs(rows.into_data().try_to_vec::<f32>().expect("f32"), self.members.len(), k)
    }

    /// Every member's log-softmax, stacked: `[K, B, classes]`.
    fn member_log_probs(&self, x: Tensor<4>) -> Tensor<3> {
        Tensor::stack(self.members.iter().map(|m| log_softmax(m.forward(x.clone()), 1)).collect::<Vec<_>>(), 0)
    }
}

impl Classifier for Ensemble {
    fn architecture(&self) -> Architecture {
        self.members[0].architecture()
    }

    /// `log((1/K) Σ_k softmax_k)`, as `max + log Σ_k exp(l_k − max) − log K` over the members'
    /// log-softmaxes `l_k`.
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let k = self.members.len() as f32;
        let l = self.member_log_probs(x);
        let top = l.clone().max_dim(0).detach();
        let lse = (l - top.clone()).exp().sum_dim(0).log() + top;
        lse.squeeze_dim::<2>(0) - k.ln()
    }

    fn dropout_shapes(&self) -> Vec<Vec<usize>> {
        Vec::new()
    }

    /// The members' log-softmaxes of ONE image, `[K, classes]` (masks are ignored: an
    /// ensemble has no dropout; its passes are its members).
    fn forward_masked(&self, x: Tensor<4>, _masks: &[Tensor<4>]) -> Tensor<2> {
        self.member_log_probs(x).squeeze_dim::<2>(1)
    }

    /// The plain forward: members are trained one by one, not as an ensemble.
    fn forward_train(&self, x: Tensor<4>, _p: f64) -> Tensor<2> {
        self.forward(x)
    }

    fn device(&self) -> Device {
        self.members[0].device()
    }
}
