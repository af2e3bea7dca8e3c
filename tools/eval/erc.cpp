#include "erc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace faceqan::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_settings(const ErcSettings& settings) {
  if (settings.fmrs.empty()) throw std::invalid_argument("no target FMR given");
  for (double f : settings.fmrs) {
    if (!(f >= 0.0 && f <= 1.0)) throw std::invalid_argument("target FMR must be in [0, 1]");
  }
  if (!(settings.step > 0.0 && settings.step <= 1.0)) {
    throw std::invalid_argument("reject step must be in (0, 1]");
  }
  if (!(settings.max_reject >= 0.0 && settings.max_reject <= 1.0)) {
    throw std::invalid_argument("largest reject fraction must be in [0, 1]");
  }
}

// Indices of pairs in rejection order: ascending quality, ties in input order.
std::vector<size_t> rejection_order(const std::vector<ScoredPair>& pairs) {
  std::vector<size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return pairs[a].quality < pairs[b].quality; });
  return order;
}

}  // namespace

double threshold_at_fmr(std::vector<double> impostor, double fmr) {
  if (impostor.empty()) throw std::invalid_argument("no impostor pairs to set a threshold on");
  if (!(fmr >= 0.0 && fmr <= 1.0)) throw std::invalid_argument("target FMR must be in [0, 1]");
  const size_t allowed = static_cast<size_t>(std::floor(fmr * static_cast<double>(impostor.size()) + 1e-9));
  if (allowed >= impostor.size()) return -std::numeric_limits<double>::infinity();
  std::nth_element(impostor.begin(), impostor.begin() + static_cast<std::ptrdiff_t>(allowed),
                   impostor.end(), std::greater<double>());
  return impostor[allowed];
}

double fraction_above(const std::vector<double>& values, double threshold) {
  if (values.empty()) return kNaN;
  const auto n = std::count_if(values.begin(), values.end(), [&](double v) { return v > threshold; });
  return static_cast<double>(n) / static_cast<double>(values.size());
}

double fraction_at_or_below(const std::vector<double>& values, double threshold) {
  if (values.empty()) return kNaN;
  return 1.0 - fraction_above(values, threshold);
}

std::vector<double> reject_grid(const ErcSettings& settings) {
  check_settings(settings);
  std::vector<double> grid;
  const auto steps = static_cast<long>(std::floor(settings.max_reject / settings.step + 1e-9));
  for (long i = 0; i <= steps; ++i) grid.push_back(static_cast<double>(i) * settings.step);
  return grid;
}

size_t rejected_count(double r, size_t pairs) {
  const double n = std::floor(r * static_cast<double>(pairs) + 1e-9);
  return std::min(pairs, static_cast<size_t>(std::max(0.0, n)));
}

double trapezoid(const std::vector<double>& x, const std::vector<double>& y, double limit) {
  double area = 0.0;
  for (size_t i = 1; i < x.size() && x[i] <= limit + 1e-9; ++i) {
    area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
  }
  if (!x.empty() && std::isnan(y[0])) return kNaN;
  return area;  // NaN propagates through the sum
}

ErcCurve compute_erc(const std::vector<ScoredPair>& pairs, const ErcSettings& settings) {
  check_settings(settings);
  ErcCurve curve;
  curve.fmrs = settings.fmrs;
  std::vector<double> all_genuine, all_impostor;
  for (const auto& p : pairs) (p.genuine ? all_genuine : all_impostor).push_back(p.similarity);
  curve.genuine = all_genuine.size();
  curve.impostor = all_impostor.size();
  if (all_genuine.empty()) throw std::invalid_argument("no genuine pairs: FNMR is undefined");
  if (all_impostor.empty()) {
    throw std::invalid_argument("no impostor pairs: a threshold at a fixed FMR cannot be set");
  }
  for (double f : settings.fmrs) {
    const double t = threshold_at_fmr(all_impostor, f);
    curve.thresholds_fixed.push_back(t);
    curve.achieved_fmr.push_back(fraction_above(all_impostor, t));
    if (f > 0.0 && static_cast<double>(all_impostor.size()) * f < 1.0 - 1e-9) {
      std::ostringstream w;
      w << "FMR " << f << " rests on " << all_impostor.size() << " impostor pairs (fewer than "
        << static_cast<long>(std::ceil(1.0 / f - 1e-9))
        << "): its threshold is the largest impostor similarity";
      curve.warnings.push_back(w.str());
    }
  }

  const std::vector<size_t> order = rejection_order(pairs);
  const std::vector<double> grid = reject_grid(settings);
  for (double r : grid) {
    ErcPoint point;
    point.reject = r;
    point.rejected = rejected_count(r, pairs.size());
    std::vector<double> genuine, impostor;
    for (size_t i = point.rejected; i < order.size(); ++i) {
      const ScoredPair& p = pairs[order[i]];
      (p.genuine ? genuine : impostor).push_back(p.similarity);
    }
    point.genuine = genuine.size();
    point.impostor = impostor.size();
    point.quality_cut = point.rejected < order.size() ? pairs[order[point.rejected]].quality : kNaN;
    for (size_t f = 0; f < settings.fmrs.size(); ++f) {
      point.fnmr_fixed.push_back(fraction_at_or_below(genuine, curve.thresholds_fixed[f]));
      if (impostor.empty()) {
        point.threshold_reestimated.push_back(kNaN);
        point.fnmr_reestimated.push_back(kNaN);
      } else {
        const double t = threshold_at_fmr(impostor, settings.fmrs[f]);
        point.threshold_reestimated.push_back(t);
        point.fnmr_reestimated.push_back(fraction_at_or_below(genuine, t));
      }
    }
    curve.points.push_back(std::move(point));
  }

  for (size_t f = 0; f < settings.fmrs.size(); ++f) {
    std::vector<double> fixed, reestimated;
    for (const auto& p : curve.points) {
      fixed.push_back(p.fnmr_fixed[f]);
      reestimated.push_back(p.fnmr_reestimated[f]);
    }
    std::vector<Pauc> a, b;
    for (double limit : settings.pauc_limits) {
      Pauc pf{limit, trapezoid(grid, fixed, limit), kNaN};
      Pauc pr{limit, trapezoid(grid, reestimated, limit), kNaN};
      // Rejecting at random keeps FNMR(0) in expectation: its area is FNMR(0) * limit.
      if (fixed[0] > 0.0 && limit > 0.0) pf.normalised = pf.raw / (fixed[0] * limit);
      if (reestimated[0] > 0.0 && limit > 0.0) pr.normalised = pr.raw / (reestimated[0] * limit);
      a.push_back(pf);
      b.push_back(pr);
    }
    curve.pauc_fixed.push_back(a);
    curve.pauc_reestimated.push_back(b);
  }
  return curve;
}

Calibration calibrate(const std::vector<ScoredPair>& pairs, double fmr, double target_fnmr,
                      double max_reject) {
  Calibration cal;
  cal.fmr = fmr;
  cal.target_fnmr = target_fnmr;
  std::vector<double> impostor, qualities;
  for (const auto& p : pairs) {
    if (!p.genuine) impostor.push_back(p.similarity);
    qualities.push_back(p.quality);
  }
  cal.threshold = threshold_at_fmr(impostor, fmr);
  std::sort(qualities.begin(), qualities.end());
  cal.recommended_quality = kNaN;
  cal.recommended_pairs_rejected = kNaN;
  double last = -std::numeric_limits<double>::infinity();
  bool first = true;
  for (int i = 0; i <= static_cast<int>(std::floor(max_reject * 100 + 1e-9)); ++i) {
    const size_t k = rejected_count(i / 100.0, qualities.size());
    if (k >= qualities.size()) break;
    const double q = qualities[k];
    if (!first && q == last) continue;
    first = false;
    last = q;
    std::vector<double> genuine;
    size_t rejected = 0;
    for (const auto& p : pairs) {
      if (p.quality < q) {
        ++rejected;
      } else if (p.genuine) {
        genuine.push_back(p.similarity);
      }
    }
    CalibrationRow row{q, static_cast<double>(rejected) / static_cast<double>(pairs.size()),
                       fraction_at_or_below(genuine, cal.threshold)};
    cal.rows.push_back(row);
    if (std::isnan(cal.recommended_quality) && !std::isnan(row.fnmr) && row.fnmr <= target_fnmr) {
      cal.recommended_quality = q;
      cal.recommended_pairs_rejected = row.pairs_rejected;
    }
  }
  return cal;
}

std::vector<double> percentile_table(std::vector<double> q) {
  if (q.empty()) throw std::invalid_argument("no qualities to calibrate the 0-100 mapping on");
  std::sort(q.begin(), q.end());
  std::vector<double> table;
  for (int i = 0; i <= 100; ++i) {
    const double pos = i / 100.0 * static_cast<double>(q.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(q.size() - 1, lo + 1);
    table.push_back(q[lo] + (q[hi] - q[lo]) * (pos - static_cast<double>(lo)));
  }
  return table;
}

}  // namespace faceqan::eval
