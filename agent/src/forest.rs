//! The random forest: regression trees on 0/1 targets over sparse TF-IDF rows, whose split
//! search reads only the candidate columns' non-zero entries in the node.
//!
//! Why not a general-purpose forest: smartcore 0.7 keeps, for every column, the node's rows in
//! sorted order and re-partitions all of those lists at every split, though only a few
//! columns are tried there. On 500 TF-IDF columns that are nearly all zero, that is where
//! the time went (fitting was 13x slower than scikit-learn's). Here a node's rows are one
//! slice; trying a column costs the smaller of the node's size and the column's non-zero
//! count; zeros form one block whose totals are the node's minus the non-zeros'.
//!
//! As in scikit-learn: bootstrap samples, `features_per_split` columns tried per node, columns
//! constant in the node do not count towards that number, the split maximises the decrease
//! of the weighted squared error, and feature importances are each tree's mean decrease in
//! impurity normalised to 1, averaged over the trees.

use serde::{Deserialize, Serialize};

/// A sparse row: (column, value) pairs sorted by column, values non-zero.
pub type SparseRow = Vec<(u32, f32)>;

/// How the forest is grown.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestParams {
    /// Trees.
    pub trees: usize,
    /// Deepest a tree grows (the root is depth 0).
    pub max_depth: u16,
    /// Non-constant columns tried at each split.
    pub features_per_split: usize,
    /// Seed: the same data and parameters give the same forest, whatever the thread count.
    pub seed: u64,
    /// Threads to grow trees on.
    pub threads: usize,
}

/// Marks a leaf in [`Node::feature`].
const LEAF: u32 = u32::MAX;

/// A tree node: a split (`value(feature) <= threshold` goes left), or a leaf with its value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Node {
    feature: u32,
    threshold: f32,
    left: u32,
    right: u32,
    /// Weighted mean target of the node's training rows.
    value: f32,
}

/// One regression tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn predict(&self, x: &[f64]) -> f64 {
        let mut i = 0usize;
        // A tree is acyclic by construction; the bound only guards a corrupt stored model.
        for _ in 0..=self.nodes.len() {
            let Some(n) = self.nodes.get(i) else { return 0.5 };
            if n.feature == LEAF {
                return f64::from(n.value);
            }
            let v = x.get(n.feature as usize).copied().unwrap_or(0.0) as f32;
            i = if v <= n.threshold { n.left } else { n.right } as usize;
        }
        0.5
    }

    /// The value of the root: the tree's (bootstrap) mean.
    fn bias(&self) -> f64 {
        self.nodes.first().map_or(0.5, |n| f64::from(n.value))
    }
}

/// A trained forest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    trees: Vec<Tree>,
    /// Mean decrease in impurity of each column, summing to 1 (all zero if no tree split).
    pub importances: Vec<f64>,
}

/// splitmix64: small, fast, and good enough to draw samples and columns.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// The data every tree reads, by row and by column.
struct Data<'a> {
    rows: &'a [SparseRow],
    cols: Vec<Vec<(u32, f32)>>,
    y: &'a [f64],
    w: &'a [f64],
    width: usize,
}

/// A candidate split of a node.
#[derive(Debug, Clone, Copy)]
struct Split {
    feature: u32,
    threshold: f32,
    /// WYL²/WL + WYR²/WR: the larger, the lower the children's squared error.
    score: f64,
}

impl Forest {
    /// Grows a forest on `rows` (`width` columns) with targets `y` (0 or 1) and weights `w`.
    pub fn fit(rows: &[SparseRow], width: usize, y: &[f64], w: &[f64], p: &ForestParams) -> Forest {
        let mut cols: Vec<Vec<(u32, f32)>> = vec![Vec::new(); width];
        for (r, row) in rows.iter().enumerate() {
            for &(c, v) in row {
                if let Some(col) = cols.get_mut(c as usize) {
                    col.push((r as u32, v));
                }
            }
        }
        let data = Data { rows, cols, y, w, width };
        let trees = p.trees.max(1);
        let threads = p.threads.clamp(1, trees);
        let mut grown: Vec<(usize, Tree, Vec<f64>)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let data = &data;
                    s.spawn(move || {
                        crate::model::lower_priority();
                        (t..trees)
                            .step_by(threads)
                            .map(|i| {
                                let (tree, imp) =
                                    grow(data, p, p.seed ^ (i as u64).wrapping_mul(0xa076_1d64_78bd_642f));
                                (i, tree, imp)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            // A worker that panicked loses its trees; the forest is the others'.
            workers.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        });
        grown.sort_by_key(|(i, _, _)| *i);
        let mut importances = vec![0.0; width];
        for (_, _, imp) in &grown {
            let total: f64 = imp.iter().sum();
            if total > 0.0 {
                for (acc, v) in importances.iter_mut().zip(imp) {
                    *acc += v / total;
                }
            }
        }
        let sum: f64 = importances.iter().sum();
        if sum > 0.0 {
            importances.iter_mut().for_each(|v| *v /= sum);
        }
        Forest { trees: grown.into_iter().map(|(_, t, _)| t).collect(), importances }
    }

    /// Mean of the trees' values for a dense row.
    pub fn predict(&self, x: &[f64]) -> f64 {
        if self.trees.is_empty() {
            return 0.5;
        }
        self.trees.iter().map(|t| t.predict(x)).sum::<f64>() / self.trees.len() as f64
    }

    /// Like [`Forest::predict`], also returning each column's contribution (Saabas: the mean
    /// over the trees of the value changes at the splits on that column along the path),
    /// written into `contrib` (cleared first, one entry per column), and the bias (the
    /// trees' mean root value): the prediction is the bias plus the contributions. Linear in
    /// depth times trees, as a prediction is.
    ///
    /// The trees are walked [`LANES`] at a time, a level of each in turn: a walk is a chain of
    /// dependent loads, and independent chains side by side let the memory accesses overlap.
    pub fn predict_contrib(&self, x: &[f64], contrib: &mut Vec<f64>) -> (f64, f64) {
        contrib.clear();
        contrib.resize(x.len(), 0.0);
        if self.trees.is_empty() {
            return (0.5, 0.5);
        }
        let (mut sum, mut bias) = (0.0f64, 0.0f64);
        for group in self.trees.chunks(LANES) {
            let mut at = [0usize; LANES];
            let mut alive = [false; LANES];
            alive.iter_mut().take(group.len()).for_each(|a| *a = true);
            let mut live = group.len();
            bias += group.iter().map(Tree::bias).sum::<f64>();
            // A tree is acyclic by construction; the bound only guards a corrupt stored model.
            let limit = group.iter().map(|t| t.nodes.len()).max().unwrap_or(0) + 1;
            for _ in 0..limit {
                if live == 0 {
                    break;
                }
                for ((t, i), a) in group.iter().zip(at.iter_mut()).zip(alive.iter_mut()) {
                    if !*a {
                        continue;
                    }
                    let n = match t.nodes.get(*i) {
                        Some(n) if n.feature != LEAF => n,
                        leaf => {
                            sum += leaf.map_or(0.5, |n| f64::from(n.value));
                            *a = false;
                            live -= 1;
                            continue;
                        }
                    };
                    let v = x.get(n.feature as usize).copied().unwrap_or(0.0) as f32;
                    let next = if v <= n.threshold { n.left } else { n.right } as usize;
                    if let (Some(child), Some(c)) = (t.nodes.get(next), contrib.get_mut(n.feature as usize)) {
                        *c += f64::from(child.value) - f64::from(n.value);
                    }
                    *i = next;
                }
            }
            sum += 0.5 * live as f64;
        }
        let n = self.trees.len() as f64;
        contrib.iter_mut().for_each(|c| *c /= n);
        (sum / n, bias / n)
    }
}

/// Trees walked side by side in [`Forest::predict_contrib`].
const LANES: usize = 8;

/// Grows one tree on a bootstrap sample; returns it with its raw importances.
fn grow(d: &Data<'_>, p: &ForestParams, seed: u64) -> (Tree, Vec<f64>) {
    let n = d.rows.len();
    let mut rng = Rng(seed);
    let mut draws = vec![0u32; n];
    for _ in 0..n {
        draws[rng.below(n)] += 1;
    }
    // A row drawn k times counts k times.
    let weight: Vec<f64> = (0..n).map(|r| d.w[r] * f64::from(draws[r])).collect();
    let mut idx: Vec<u32> = (0..n as u32).filter(|&r| draws[r as usize] > 0 && weight[r as usize] > 0.0).collect();
    let mut b = Builder {
        d,
        weight,
        stamp: vec![0; n],
        right: vec![false; n],
        features: (0..d.width as u32).collect(),
        scratch: Vec::new(),
        importances: vec![0.0; d.width],
        now: 0,
        m: p.features_per_split.clamp(1, d.width.max(1)),
    };
    let mut nodes = vec![Node { feature: LEAF, threshold: 0.0, left: 0, right: 0, value: 0.5 }];
    // (node, start, end, depth): the node's rows are idx[start..end].
    let mut stack = vec![(0usize, 0usize, idx.len(), 0u16)];
    while let Some((node, start, end, depth)) = stack.pop() {
        let rows = &mut idx[start..end];
        let (w_sum, wy_sum) = rows.iter().fold((0.0, 0.0), |(w, wy), &r| {
            let r = r as usize;
            (w + b.weight[r], wy + b.weight[r] * d.y[r])
        });
        let value = if w_sum > 0.0 { wy_sum / w_sum } else { 0.5 };
        nodes[node].value = value as f32;
        let pure = wy_sum <= 1e-12 * w_sum || wy_sum >= w_sum * (1.0 - 1e-12);
        if depth >= p.max_depth || rows.len() < 2 || pure {
            continue;
        }
        let Some(split) = b.best_split(&mut rng, rows, w_sum, wy_sum) else { continue };
        let parent = wy_sum * wy_sum / w_sum;
        if split.score <= parent + 1e-12 {
            continue;
        }
        b.importances[split.feature as usize] += split.score - parent;
        let mid = start + b.partition(rows, split);
        let (left, right) = (nodes.len(), nodes.len() + 1);
        nodes.push(Node { feature: LEAF, threshold: 0.0, left: 0, right: 0, value: 0.5 });
        nodes.push(Node { feature: LEAF, threshold: 0.0, left: 0, right: 0, value: 0.5 });
        nodes[node] = Node {
            feature: split.feature,
            threshold: split.threshold,
            left: left as u32,
            right: right as u32,
            value: value as f32,
        };
        stack.push((right, mid, end, depth + 1));
        stack.push((left, start, mid, depth + 1));
    }
    (Tree { nodes }, b.importances)
}

/// Scratch space of one tree's growth.
struct Builder<'a, 'd> {
    d: &'a Data<'d>,
    /// Bootstrap weight of each row (0: out of the bag).
    weight: Vec<f64>,
    /// `stamp[r] == now` marks the rows of the node being split.
    stamp: Vec<u32>,
    now: u32,
    /// Rows going right, while a node is partitioned.
    right: Vec<bool>,
    /// Column order, reshuffled partly at each node.
    features: Vec<u32>,
    /// (value, weight, weight * y) of a column's non-zeros in the node.
    scratch: Vec<(f32, f64, f64)>,
    importances: Vec<f64>,
    m: usize,
}

impl Builder<'_, '_> {
    /// The non-zero entries of column `f` among the node's rows, into `scratch`, sorted.
    fn gather(&mut self, f: u32, rows: &[u32]) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let (weight, y) = (&self.weight, self.d.y);
        for_each_nonzero(self.d, &self.stamp, self.now, f, rows, |r, v| {
            let w = weight[r as usize];
            scratch.push((v, w, w * y[r as usize]));
        });
        scratch.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        self.scratch = scratch;
    }

    /// The best split over up to `m` non-constant columns drawn at random.
    fn best_split(&mut self, rng: &mut Rng, rows: &[u32], w_sum: f64, wy_sum: f64) -> Option<Split> {
        self.now = self.now.wrapping_add(1);
        if self.now == 0 {
            // After 2^32 nodes the stamps wrap: start clean.
            self.stamp.iter_mut().for_each(|s| *s = u32::MAX);
            self.now = 1;
        }
        for &r in rows {
            self.stamp[r as usize] = self.now;
        }
        let width = self.features.len();
        let mut tried = 0;
        let mut best: Option<Split> = None;
        for k in 0..width {
            if tried == self.m {
                break;
            }
            let j = k + rng.below(width - k);
            self.features.swap(k, j);
            let f = self.features[k];
            self.gather(f, rows);
            let zeros = rows.len() - self.scratch.len();
            let (Some(first), Some(last)) = (self.scratch.first(), self.scratch.last()) else { continue };
            if zeros == 0 && first.0 == last.0 {
                continue;
            }
            tried += 1;
            let (w_nz, wy_nz) = self.scratch.iter().fold((0.0, 0.0), |(w, wy), e| (w + e.1, wy + e.2));
            // The left side starts as the block of zeros and takes the non-zeros in order.
            let (mut wl, mut wyl) = (w_sum - w_nz, wy_sum - wy_nz);
            let mut below = 0.0f32;
            // nl: rows on the left so far.
            for (i, nl) in (0..self.scratch.len()).zip(zeros..) {
                let (v, w, wy) = self.scratch[i];
                if nl > 0 && v > below {
                    let (wr, wyr) = (w_sum - wl, wy_sum - wyl);
                    if wl > 0.0 && wr > 0.0 {
                        let score = wyl * wyl / wl + wyr * wyr / wr;
                        if best.is_none_or(|b| score > b.score) {
                            let mid = below + (v - below) / 2.0;
                            let threshold = if mid < v { mid } else { below };
                            best = Some(Split { feature: f, threshold, score });
                        }
                    }
                }
                wl += w;
                wyl += wy;
                below = v;
            }
        }
        best
    }

    /// Puts the rows that go left first; returns how many they are.
    fn partition(&mut self, rows: &mut [u32], split: Split) -> usize {
        // Mark the rows whose value is above the threshold (zeros never are).
        let right = &mut self.right;
        for_each_nonzero(self.d, &self.stamp, self.now, split.feature, rows, |r, v| {
            if v > split.threshold {
                right[r as usize] = true;
            }
        });
        let mut left = 0;
        for i in 0..rows.len() {
            if !self.right[rows[i] as usize] {
                rows.swap(left, i);
                left += 1;
            }
        }
        for &r in &rows[left..] {
            self.right[r as usize] = false;
        }
        left
    }
}

/// Calls `visit(row, value)` for each non-zero entry of column `f` among the node's `rows`
/// (the rows stamped `now`): through the rows when the node is smaller than the column,
/// through the column otherwise.
fn for_each_nonzero(d: &Data<'_>, stamp: &[u32], now: u32, f: u32, rows: &[u32], mut visit: impl FnMut(u32, f32)) {
    let col = &d.cols[f as usize];
    if rows.len() < col.len() {
        for &r in rows {
            let row = &d.rows[r as usize];
            if let Ok(i) = row.binary_search_by_key(&f, |e| e.0) {
                visit(r, row[i].1);
            }
        }
    } else {
        for &(r, v) in col {
            if stamp[r as usize] == now {
                visit(r, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(trees: usize, threads: usize) -> ForestParams {
        ForestParams { trees, max_depth: 10, features_per_split: 2, seed: 3, threads }
    }

    /// Column 0 decides; columns 1..4 are noise.
    fn data() -> (Vec<SparseRow>, Vec<f64>, Vec<f64>) {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        let mut rng = Rng(11);
        for i in 0..200 {
            let unsafe_ = i % 2 == 0;
            let mut row: SparseRow = Vec::new();
            if unsafe_ {
                row.push((0, 0.5 + (rng.below(50) as f32) / 100.0));
            }
            for c in 1..5u32 {
                if rng.below(3) == 0 {
                    row.push((c, (1 + rng.below(9)) as f32 / 10.0));
                }
            }
            rows.push(row);
            y.push(if unsafe_ { 1.0 } else { 0.0 });
        }
        let w = vec![1.0; rows.len()];
        (rows, y, w)
    }

    fn dense(row: &SparseRow, width: usize) -> Vec<f64> {
        let mut x = vec![0.0; width];
        for &(c, v) in row {
            x[c as usize] = f64::from(v);
        }
        x
    }

    #[test]
    fn finds_the_deciding_column() {
        let (rows, y, w) = data();
        let f = Forest::fit(&rows, 5, &y, &w, &params(50, 2));
        // Two of five columns are tried per split, so some trees split on noise first.
        assert!(f.predict(&[0.7, 0.3, 0.0, 0.0, 0.9]) > 0.8);
        assert!(f.predict(&[0.0, 0.3, 0.5, 0.0, 0.9]) < 0.2);
        let top = f.importances.iter().cloned().fold(f64::MIN, f64::max);
        assert_eq!(f.importances[0], top, "{:?}", f.importances);
        assert!((f.importances.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn contributions_add_up_to_the_prediction() {
        let (rows, y, w) = data();
        let f = Forest::fit(&rows, 5, &y, &w, &params(30, 2));
        let mut contrib = Vec::new();
        for x in [[0.7, 0.3, 0.0, 0.0, 0.9], [0.0, 0.3, 0.5, 0.0, 0.9]] {
            let (p, bias) = f.predict_contrib(&x, &mut contrib);
            assert!((p - f.predict(&x)).abs() < 1e-9);
            assert!((bias + contrib.iter().sum::<f64>() - p).abs() < 1e-5, "{bias} {contrib:?} {p}");
            // The deciding column carries the verdict.
            let top = contrib.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0;
            assert_eq!(top, 0, "{contrib:?}");
        }
    }

    #[test]
    fn same_forest_whatever_the_thread_count() {
        let (rows, y, w) = data();
        let one = Forest::fit(&rows, 5, &y, &w, &params(8, 1));
        let three = Forest::fit(&rows, 5, &y, &w, &params(8, 3));
        assert_eq!(one, three);
    }

    #[test]
    fn weights_decide_a_conflict() {
        // The same row, unsafe with weight 5 and safe with weight 1, ten times over (so that
        // bootstrap samples rarely miss either), and rows of zeros that are safe.
        let mut rows = Vec::new();
        let (mut y, mut w) = (Vec::new(), Vec::new());
        for _ in 0..10 {
            rows.extend([vec![(0, 1.0)], vec![(0, 1.0)], vec![], vec![]]);
            y.extend([1.0, 0.0, 0.0, 0.0]);
            w.extend([5.0, 1.0, 1.0, 1.0]);
        }
        let f = Forest::fit(
            &rows,
            1,
            &y,
            &w,
            &ForestParams { trees: 50, max_depth: 5, features_per_split: 1, seed: 1, threads: 1 },
        );
        let p = f.predict(&dense(&rows[0], 1));
        assert!(p > 0.75 && p < 0.9, "{p}: about 5/6");
        assert_eq!(f.predict(&[0.0]), 0.0);
    }

    #[test]
    fn depth_zero_is_one_leaf_and_a_corrupt_tree_is_harmless() {
        let (rows, y, w) = data();
        let f = Forest::fit(&rows, 5, &y, &w, &ForestParams { max_depth: 0, ..params(3, 1) });
        assert!(f.trees.iter().all(|t| t.nodes.len() == 1));
        let cyclic = Tree { nodes: vec![Node { feature: 0, threshold: 0.5, left: 0, right: 0, value: 0.0 }] };
        assert_eq!(cyclic.predict(&[0.0]), 0.5);
    }
}
