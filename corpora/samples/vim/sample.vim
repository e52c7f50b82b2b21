" Utilities for trimming whitespace and toggling options.
scriptencoding utf-8

if exists('g:loaded_tidy')
  finish
endif
let g:loaded_tidy = 1

let s:save_cpo = &cpo
set cpo&vim

let g:tidy_filetypes = get(g:, 'tidy_filetypes', ['python', 'rust', 'vim'])
let s:defaults = {'trim': 1, 'retab': 0, 'width': 80}

" Remove trailing whitespace while keeping the cursor in place.
function! s:TrimTrailing() abort
  let l:view = winsaveview()
  try
    keeppatterns %s/\s\+$//e
  catch /E486/
    echomsg 'Nothing to trim'
  finally
    call winrestview(l:view)
  endtry
endfunction

function! s:ToggleOption(name) abort
  let l:current = eval('&' . a:name)
  if l:current
    execute 'setlocal no' . a:name
  else
    execute 'setlocal ' . a:name
  endif
  echo a:name . ' is now ' . (l:current ? 'off' : 'on')
endfunction

function! tidy#Run(...) abort
  let l:opts = extend(copy(s:defaults), a:0 > 0 ? a:1 : {})
  if index(g:tidy_filetypes, &filetype) < 0
    return
  endif
  if l:opts.trim
    call s:TrimTrailing()
  endif
  let l:count = 0
  for l:line in getline(1, '$')
    if strlen(l:line) > l:opts.width
      let l:count += 1
    endif
  endfor
  while l:count > 100
    let l:count -= 100
  endwhile
  return l:count
endfunction

command! -nargs=0 TidyTrim call s:TrimTrailing()
command! -nargs=1 TidyToggle call s:ToggleOption(<q-args>)

nnoremap <silent> <leader>tw :TidyTrim<CR>
nnoremap <silent> <leader>tl :TidyToggle list<CR>

augroup tidy
  autocmd!
  autocmd BufWritePre *.py,*.rs call tidy#Run()
augroup END

let &cpo = s:save_cpo
unlet s:save_cpo
