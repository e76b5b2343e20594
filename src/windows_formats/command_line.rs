//! A Windows command line split into arguments.
//!
//! Windows hands a process one command-line string; each program splits
//! it itself. irdump keeps the exact string (`cmdline_raw`) and also
//! splits it the way nearly every program does, by the rules Microsoft
//! documents for `CommandLineToArgvW` and the C runtime ("Parsing C++
//! command-line arguments"):
//!
//! - the program name (first argument) ends at the first space or tab, or,
//!   when it starts with `"`, at the next `"`; backslashes in it are
//!   literal;
//! - later arguments are separated by spaces and tabs outside quotes;
//! - `2n` backslashes before a `"` give `n` backslashes and the quote opens
//!   or closes a quoted part; `2n + 1` give `n` backslashes and a literal
//!   `"`; backslashes not before a `"` are literal;
//! - inside a quoted part, `""` gives a literal `"` (the rule of the C
//!   runtime since 2008).
//!
//! Limitation: a program that parses its command line its own way (for
//! example `cmd.exe`) saw different arguments; `cmdline_raw` is the
//! evidence, the split is a convenience.

const SPACE: u16 = b' ' as u16;
const TAB: u16 = b'\t' as u16;
const QUOTE: u16 = b'"' as u16;
const BACKSLASH: u16 = b'\\' as u16;

fn is_blank(u: u16) -> bool {
    u == SPACE || u == TAB
}

/// Splits a command line (UTF-16 units, no terminating NUL) into its
/// arguments, each as UTF-16 units.
pub fn split_command_line(line: &[u16]) -> Vec<Vec<u16>> {
    let mut args = Vec::new();
    let mut i = 0;
    if line.is_empty() {
        return args;
    }

    // The program name.
    let mut program = Vec::new();
    if line[0] == QUOTE {
        i = 1;
        while i < line.len() && line[i] != QUOTE {
            program.push(line[i]);
            i += 1;
        }
        i += 1; // the closing quote, if any
    } else {
        while i < line.len() && !is_blank(line[i]) {
            program.push(line[i]);
            i += 1;
        }
    }
    args.push(program);

    // The other arguments.
    loop {
        while i < line.len() && is_blank(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return args;
        }
        let mut arg = Vec::new();
        let mut quoted = false;
        while i < line.len() {
            let u = line[i];
            if u == BACKSLASH {
                let run = line[i..].iter().take_while(|&&c| c == BACKSLASH).count();
                if line.get(i + run) == Some(&QUOTE) {
                    arg.extend(std::iter::repeat_n(BACKSLASH, run / 2));
                    if run % 2 == 1 {
                        arg.push(QUOTE);
                        i += run + 1;
                    } else {
                        i += run; // the quote is handled next round
                    }
                } else {
                    arg.extend(std::iter::repeat_n(BACKSLASH, run));
                    i += run;
                }
            } else if u == QUOTE {
                if quoted && line.get(i + 1) == Some(&QUOTE) {
                    arg.push(QUOTE);
                    i += 2;
                } else {
                    quoted = !quoted;
                    i += 1;
                }
            } else if is_blank(u) && !quoted {
                break;
            } else {
                arg.push(u);
                i += 1;
            }
        }
        args.push(arg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        let units: Vec<u16> = s.encode_utf16().collect();
        split_command_line(&units)
            .into_iter()
            .map(|a| String::from_utf16(&a).unwrap())
            .collect()
    }

    #[test]
    fn program_name_rules() {
        assert_eq!(
            split(r#""C:\Program Files\App\app.exe" -x"#),
            vec![r"C:\Program Files\App\app.exe", "-x"]
        );
        assert_eq!(
            split(r"C:\Windows\system32\svchost.exe -k netsvcs"),
            vec![r"C:\Windows\system32\svchost.exe", "-k", "netsvcs"]
        );
        // Backslashes before a quote in the program name are literal.
        assert_eq!(split(r#""C:\dir\\"rest"#), vec![r"C:\dir\\", "rest"]);
        assert_eq!(split(""), Vec::<String>::new());
    }

    /// The examples of Microsoft's "Parsing C++ command-line arguments".
    #[test]
    fn documented_examples() {
        assert_eq!(split(r#"p "a b c" d e"#)[1..], ["a b c", "d", "e"]);
        assert_eq!(split(r#"p "ab\"c" "\\" d"#)[1..], [r#"ab"c"#, r"\", "d"]);
        assert_eq!(split(r#"p a\\\b d"e f"g h"#)[1..], [r"a\\\b", "de fg", "h"]);
        assert_eq!(split(r#"p a\\\"b c d"#)[1..], [r#"a\"b"#, "c", "d"]);
        assert_eq!(split(r#"p a\\\\"b c" d e"#)[1..], [r"a\\b c", "d", "e"]);
        assert_eq!(split(r#"p a"b"" c d"#)[1..], [r#"ab" c d"#]);
    }

    #[test]
    fn empty_and_blank_arguments() {
        assert_eq!(split(r#"p "" x"#)[1..], ["", "x"]);
        assert_eq!(split("p \t  x  \t"), vec!["p", "x"]);
        assert_eq!(split(r#"p "unterminated arg"#)[1..], ["unterminated arg"]);
    }

    #[test]
    fn obfuscated_powershell_keeps_its_meaning() {
        assert_eq!(
            split(r#"cmd /c p"o"wer^shell -e SQBFAFgA"#),
            vec!["cmd", "/c", "power^shell", "-e", "SQBFAFgA"]
        );
    }
}
