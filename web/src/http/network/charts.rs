//! Charts drawn on the server as SVG coordinates (no JavaScript, nothing from elsewhere),
//! like the dashboard's balance chart: lines over months, and bars.

use ledger::Amount;

use crate::http::i18n::Lang;

const WIDTH: i64 = 600;
const HEIGHT: i64 = 220;
const PAD: i64 = 12;
/// Bars and points a chart draws at most.
pub const CHART_VALUES_MAX: usize = 64;

/// One line of a [`LineChart`].
pub struct LineSeries {
    pub name: &'static str,
    pub colour: &'static str,
    /// `x,y x,y ...` for a `<polyline>`.
    pub points: String,
}

pub struct LineChart {
    pub width: i64,
    pub height: i64,
    pub zero_y: i64,
    pub series: Vec<LineSeries>,
    pub low: String,
    pub high: String,
    pub first_label: String,
    pub last_label: String,
}

/// Scales `value` into the drawing box between `low` and `high` (top is `high`).
fn scale_y(value: i64, low: i64, high: i64) -> i64 {
    let span = i128::from(high.saturating_sub(low).max(1));
    let from_top = i128::from(high.saturating_sub(value)) * i128::from(HEIGHT - 2 * PAD) / span;
    PAD + from_top as i64
}

/// Lines over the same x positions (one value per label, oldest first); `None` with fewer
/// than two points.
pub fn line_chart(
    lang: Lang,
    labels: &[String],
    series: Vec<(&'static str, &'static str, Vec<i64>)>,
) -> Option<LineChart> {
    let n = labels.len().min(CHART_VALUES_MAX);
    if n < 2 || series.iter().any(|(_, _, values)| values.len() < n) {
        return None;
    }
    let all = series.iter().flat_map(|(_, _, v)| v[..n].iter().copied());
    let (low, high) = all.fold((0i64, 0i64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let step = (WIDTH - 2 * PAD) / (n as i64 - 1);
    let series = series
        .into_iter()
        .map(|(name, colour, values)| LineSeries {
            name,
            colour,
            points: values[..n]
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{},{}", PAD + i as i64 * step, scale_y(*v, low, high)))
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    Some(LineChart {
        width: WIDTH,
        height: HEIGHT,
        zero_y: scale_y(0, low, high),
        series,
        low: lang.amount(Amount::from_minor(low)),
        high: lang.amount(Amount::from_minor(high)),
        first_label: labels[0].clone(),
        last_label: labels[n - 1].clone(),
    })
}

pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub negative: bool,
    /// What the bar stands for and its value, for its `<title>` and the table beside it.
    pub label: String,
    pub value: String,
}

pub struct BarChart {
    pub width: i64,
    pub height: i64,
    pub zero_y: i64,
    pub bars: Vec<Bar>,
    pub low: String,
    pub high: String,
}

/// Vertical bars from a zero line (negative values hang below it); `None` without values.
/// `shown` formats a value for people.
pub fn bar_chart(values: &[(String, i64)], shown: impl Fn(i64) -> String) -> Option<BarChart> {
    let values = &values[..values.len().min(CHART_VALUES_MAX)];
    if values.is_empty() {
        return None;
    }
    let low = values.iter().map(|(_, v)| *v).min().unwrap_or(0).min(0);
    let high = values.iter().map(|(_, v)| *v).max().unwrap_or(0).max(0);
    let zero_y = scale_y(0, low, high);
    let slot = (WIDTH - 2 * PAD) / values.len() as i64;
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let y = scale_y(*value, low, high);
            Bar {
                x: PAD + i as i64 * slot + slot / 8,
                y: y.min(zero_y),
                width: (slot * 3 / 4).max(1),
                height: (y - zero_y).abs().max(1),
                negative: *value < 0,
                label: label.clone(),
                value: shown(*value),
            }
        })
        .collect();
    Some(BarChart {
        width: WIDTH,
        height: HEIGHT,
        zero_y,
        bars,
        low: shown(low),
        high: shown(high),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_span_the_box_and_keep_zero_inside() {
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let chart = line_chart(Lang::Fr, &labels, vec![("x", "#000", vec![-100, 0, 300])]).unwrap();
        assert_eq!(chart.series[0].points, "12,208 300,159 588,12");
        assert_eq!(chart.zero_y, 159);
        assert_eq!(chart.low, "-1,00");
        assert!(line_chart(Lang::Fr, &labels[..1], vec![("x", "#000", vec![1])]).is_none());
    }

    #[test]
    fn bars_hang_from_the_zero_line() {
        let chart = bar_chart(&[("a".into(), 100), ("b".into(), -100)], |v| v.to_string()).unwrap();
        assert_eq!(chart.zero_y, 110);
        let (up, down) = (&chart.bars[0], &chart.bars[1]);
        assert_eq!((up.y, up.height, up.negative), (12, 98, false));
        assert_eq!((down.y, down.height, down.negative), (110, 98, true));
        assert!(bar_chart(&[], |v| v.to_string()).is_none());
    }
}
