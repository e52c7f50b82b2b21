# Helpers for managing project workspaces.
set -g PROJECTS_DIR $HOME/projects
set -gx EDITOR nvim
set -l default_branches main master develop

function proj --description 'Jump to a project directory'
    if test (count $argv) -eq 0
        ls $PROJECTS_DIR
        return 0
    end

    set -l target $PROJECTS_DIR/$argv[1]
    if not test -d $target
        echo "No such project: $argv[1]" >&2
        return 1
    end

    cd $target
    and git status --short
end

function clean_branches --argument-names remote
    if test -z "$remote"
        set remote origin
    end

    git fetch --prune $remote 2>/dev/null
    or begin
        echo "fetch failed for $remote"
        return 2
    end

    for branch in (git branch --merged | string trim)
        switch $branch
            case 'main' 'master' 'develop'
                continue
            case '*'
                echo "Deleting $branch"
                git branch -d $branch
        end
    end
end

function count_lines
    set -l total 0
    for file in **/*.rs
        set -l n (wc -l < $file | string trim)
        set total (math $total + $n)
    end
    printf '%d lines of Rust\n' $total
end

set -l i 1
while test $i -le 3
    echo "Attempt $i"
    set i (math $i + 1)
end

abbr -a gs git status
alias ll 'ls -lah'

if status is-interactive
    set -g fish_greeting "Welcome back, $USER"
end
