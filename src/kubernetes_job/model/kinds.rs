//! Project Planton's `CloudResourceKind` names, the values Planton accepts
//! for `metadata.relationships[*].kind` and `value_from.kind`. The names are
//! data, kept in `cloud_resource_kinds.txt` next to this file (one
//! `Name number` pair per line), so that a new Planton kind is a one-line
//! change.

const DATA: &str = include_str!("cloud_resource_kinds.txt");

/// How many suggestions an error lists.
const SUGGESTIONS: usize = 3;

/// Every kind name with its enum number, in the proto's order.
pub fn all() -> impl Iterator<Item = (&'static str, u32)> {
    DATA.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let number = words.next()?.parse().ok()?;
            Some((name, number))
        })
}

/// Whether `name` is a kind, spelled exactly.
pub fn is_kind(name: &str) -> bool {
    all().any(|(n, _)| n == name)
}

/// The kind names nearest to `name`, best first: names that differ only in
/// case, then names that contain it (or that it contains), then by edit
/// distance.
pub fn closest(name: &str) -> Vec<&'static str> {
    let wanted = name.to_ascii_lowercase();
    let mut scored: Vec<((u8, usize), &'static str)> = all()
        .map(|(n, _)| {
            let lower = n.to_ascii_lowercase();
            let rank = if lower == wanted {
                0
            } else if !wanted.is_empty() && (lower.contains(&wanted) || wanted.contains(&lower)) {
                1
            } else {
                2
            };
            ((rank, strsim::levenshtein(&lower, &wanted)), n)
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, n)| n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The data file parses completely: every non-comment line is a name
    /// and a number, names and numbers are unique, and the kinds this
    /// resource depends on carry Planton's numbers.
    #[test]
    fn the_kind_list_is_complete_and_consistent() {
        let lines = DATA
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        let kinds: Vec<_> = all().collect();
        assert_eq!(
            kinds.len(),
            lines,
            "a line of cloud_resource_kinds.txt does not parse"
        );
        let mut names: Vec<_> = kinds.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), kinds.len(), "a name is listed twice");
        let mut numbers: Vec<_> = kinds.iter().map(|(_, v)| *v).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), kinds.len(), "a number is listed twice");
        for (name, number) in [
            ("AwsEksCluster", 207),
            ("AzureAksCluster", 400),
            ("GcpGkeCluster", 607),
            ("KubernetesCronJob", 801),
            ("KubernetesNamespace", 836),
            ("KubernetesJob", 846),
            ("DigitalOceanKubernetesCluster", 1208),
            ("CivoKubernetesCluster", 1507),
        ] {
            assert!(kinds.contains(&(name, number)), "{name} = {number} missing");
        }
        assert!(!is_kind("unspecified"), "the zero value is not a kind");
    }

    #[test]
    fn names_match_exactly() {
        assert!(is_kind("KubernetesPostgres"));
        assert!(!is_kind("kubernetespostgres"));
        assert!(!is_kind("Postgres"));
        assert!(!is_kind(""));
    }

    #[test]
    fn suggestions_prefer_case_then_substring_then_distance() {
        assert_eq!(closest("kubernetesnamespace")[0], "KubernetesNamespace");
        assert_eq!(closest("KubernetesPostgresql")[0], "KubernetesPostgres");
        let postgres = closest("Postgres");
        assert_eq!(postgres.len(), SUGGESTIONS);
        assert!(
            postgres.iter().all(|n| n.contains("Postgres")),
            "{postgres:?}"
        );
        assert_eq!(closest("KubernetesNamspace")[0], "KubernetesNamespace");
    }
}
