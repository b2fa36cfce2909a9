/**
 * Shell completion scripts: verbs, each verb's flags, and SERVICE/METHOD names (from
 * `ttrpc list --methods`, so they follow the built-in schemas).
 * @module
 */
import { usageError } from "./cli-error.js";

const FLAGS: Record<string, string> = {
  call: "-d --data -H --header --namespace --timeout --max-msg-size --emit-defaults --proto-names --allow-unknown-fields --compact",
  list: "--origin --methods",
  describe: "--template --proto-names",
  tap: "--listen --target --json --raw --nri --max-msg-size --emit-defaults --proto-names",
  bench:
    "-d --data -c --concurrency --connections -n --total --duration --timeout -H --header --namespace --json --max-msg-size",
  completion: "bash zsh",
};
const SCHEMA = "--protoset --proto -I --import-path --compiler --no-builtin --help";

function bash(): string {
  const cases = Object.entries(FLAGS)
    .map(
      ([verb, flags]) => `    ${verb}) flags="${flags} ${verb === "completion" ? "" : SCHEMA}" ;;`,
    )
    .join("\n");
  return `# ttrpc bash completion: eval "$(ttrpc completion bash)"
_ttrpc() {
  local cur prev verb flags
  cur=\${COMP_WORDS[COMP_CWORD]}
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  verb=\${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "call list describe tap bench completion help" -- "$cur"))
    return
  fi
  case $prev in
    --protoset|--proto|-d|--data) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -I|--import-path) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --compiler) COMPREPLY=($(compgen -W "auto buf protoc protobufjs" -- "$cur")); return ;;
    --listen|--target) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case $verb in
${cases}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ $verb == call || $verb == bench ]] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ $verb == call || $verb == bench || $verb == describe || $verb == list ]]; then
    COMPREPLY=($(compgen -W "$(ttrpc list --methods 2>/dev/null)" -- "$cur"))
  fi
}
complete -o default -F _ttrpc ttrpc
`;
}

/** The completion script for a shell (bash; zsh through bashcompinit). */
export function completion(shell: string): string {
  if (shell === "bash") return bash();
  if (shell === "zsh") return `autoload -U +X bashcompinit && bashcompinit\n${bash()}`;
  throw usageError(`no completion for ${shell}: bash or zsh`);
}
