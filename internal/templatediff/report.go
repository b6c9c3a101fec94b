package templatediff

import (
	"fmt"
	"strings"
)

// Marker is the report's first line; the PR workflow finds and updates its
// comment by it.
const Marker = "<!-- s3vend-diff -->"

// MaxReport is GitHub's limit on a comment body (65,536 characters); the
// report stays below it with room to spare. The raw diff is truncated to fit,
// never the summary.
const MaxReport = 65000

// Report is everything the reviewer sees.
type Report struct {
	Base   string // e.g. "main (merge base 1a2b3c4)"
	Head   string // e.g. "working tree of i7c"
	Stacks []StackDiff
	Raw    []RawDiff // the CDK CLI's diff per changed stack
}

// RawDiff is the CDK CLI's text for one stack.
type RawDiff struct {
	Stack, Text string
}

// Changed reports whether any stack differs.
func (r Report) Changed() bool {
	for _, s := range r.Stacks {
		if s.Changed() {
			return true
		}
	}
	return false
}

// Markdown renders the report: the marker, the summary, then the raw diff
// (truncated with a note to keep the whole within MaxReport).
func (r Report) Markdown() string {
	summary := r.summary()
	raw := r.raw()
	budget := MaxReport - len(summary)
	if len(raw) > budget {
		const note = "\n```\n\n_Raw diff truncated to fit a GitHub comment: run `make diff` locally for all of it._\n</details>\n"
		cut := budget - len(note)
		if cut < 0 {
			cut = 0
		}
		// Cut at a line end so no line (or UTF-8 sequence) is split.
		if i := strings.LastIndexByte(raw[:cut], '\n'); i >= 0 {
			cut = i + 1
		} else {
			cut = 0
		}
		if cut == 0 {
			raw = "\n_Raw diff left out: the summary fills the GitHub comment; run `make diff` locally._\n"
		} else {
			raw = raw[:cut] + note
		}
	}
	return summary + raw
}

func (r Report) summary() string {
	var b strings.Builder
	b.WriteString(Marker + "\n")
	var changed, same []string
	for _, s := range r.Stacks {
		if s.Changed() {
			changed = append(changed, fmt.Sprintf("`%s` (%s)", s.Stack, s.Status))
		} else {
			same = append(same, "`"+s.Stack+"`")
		}
	}
	fmt.Fprintf(&b, "## s3vend diff\n\n%s against %s; offline, from synthesized templates.\n\n", r.Head, r.Base)
	if len(changed) == 0 {
		fmt.Fprintf(&b, "**No changes** in %d stack(s): %s.\n", len(same), strings.Join(same, ", "))
		return b.String()
	}
	fmt.Fprintf(&b, "**%d of %d stack(s) changed**: %s.", len(changed), len(r.Stacks), strings.Join(changed, ", "))
	if len(same) > 0 {
		fmt.Fprintf(&b, " Unchanged: %s.", strings.Join(same, ", "))
	}
	b.WriteString("\n")
	for _, s := range r.Stacks {
		if s.Changed() {
			s.writeSummary(&b)
		}
	}
	return b.String()
}

func (s StackDiff) writeSummary(b *strings.Builder) {
	fmt.Fprintf(b, "\n### %s: %s\n\n", s.Stack, s.Status)
	fmt.Fprintf(b, "Resources: %d added, %d removed, %d modified, %d replaced.\n\n",
		len(s.Added), len(s.Removed), len(s.Modified), len(s.Replaced))
	list := func(title string, rs []Resource) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(b, "- %s:\n", title)
		for _, r := range rs {
			fmt.Fprintf(b, "  - %s\n", r)
		}
	}
	if s.Status == Removed {
		b.WriteString("- The working tree no longer synthesizes this stack: `cdk deploy` leaves it in place, `cdk destroy` deletes it.\n")
	}
	list("**Replaced** (CloudFormation creates a new one and deletes the old: its data and physical id do not carry over)", s.Replaced)
	list("**Removed**", s.Removed)
	list("Added", s.Added)
	if s.Status == Changed {
		list("Modified", s.Modified)
	}
	list("Function code changed", s.CodeChanged)
	for _, sec := range s.Sections {
		fmt.Fprintf(b, "- %s\n", sec)
	}
	if len(s.Policies) == 0 {
		b.WriteString("\nIAM and resource-policy statements: none added or removed.\n")
		return
	}
	b.WriteString("\n#### IAM and resource-policy statements\n")
	for _, p := range s.Policies {
		on := ""
		if p.Target != "" {
			on = " on " + p.Target
		}
		fmt.Fprintf(b, "\n`%s` (%s), %s%s: %d added, %d removed\n\n```diff\n", p.Resource, p.Type, p.Label, on, len(p.Added), len(p.Removed))
		for _, st := range p.Removed {
			for _, l := range st.Lines() {
				b.WriteString("- " + l + "\n")
			}
		}
		for _, st := range p.Added {
			for _, l := range st.Lines() {
				b.WriteString("+ " + l + "\n")
			}
		}
		b.WriteString("```\n")
	}
}

func (r Report) raw() string {
	var b strings.Builder
	for _, d := range r.Raw {
		if strings.TrimSpace(d.Text) == "" {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\n<details><summary>Raw <code>cdk diff</code></summary>\n\n```\n")
		}
		b.WriteString(strings.TrimRight(strings.ReplaceAll(d.Text, "```", "ˋˋˋ"), "\n") + "\n\n")
	}
	if b.Len() == 0 {
		return ""
	}
	b.WriteString("```\n</details>\n")
	return b.String()
}
