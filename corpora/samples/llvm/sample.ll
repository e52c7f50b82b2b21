; ModuleID = 'inventory.c'
source_filename = "inventory.c"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.Item = type { ptr, i32, double }

@.str = private unnamed_addr constant [13 x i8] c"total: %.2f\0A\00", align 1
@.str.1 = private unnamed_addr constant [7 x i8] c"hammer\00", align 1
@threshold = dso_local global i32 5, align 4
@items = internal global [2 x %struct.Item] zeroinitializer, align 16

declare i32 @printf(ptr noundef, ...)

; Returns price * quantity for one item.
define dso_local double @item_value(ptr noundef %item) #0 {
entry:
  %qty.ptr = getelementptr inbounds %struct.Item, ptr %item, i32 0, i32 1
  %qty = load i32, ptr %qty.ptr, align 8
  %price.ptr = getelementptr inbounds %struct.Item, ptr %item, i32 0, i32 2
  %price = load double, ptr %price.ptr, align 8
  %qty.fp = sitofp i32 %qty to double
  %value = fmul double %price, %qty.fp
  ret double %value
}

define dso_local double @total_value(ptr noundef %arr, i32 noundef %n) #0 {
entry:
  %empty = icmp sle i32 %n, 0
  br i1 %empty, label %exit, label %loop

loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %acc = phi double [ 0.000000e+00, %entry ], [ %sum, %loop ]
  %idx = sext i32 %i to i64
  %elem = getelementptr inbounds %struct.Item, ptr %arr, i64 %idx
  %v = call double @item_value(ptr noundef %elem)
  %sum = fadd double %acc, %v
  %next = add nsw i32 %i, 1
  %done = icmp eq i32 %next, %n
  br i1 %done, label %exit, label %loop

exit:
  %result = phi double [ 0.000000e+00, %entry ], [ %sum, %loop ]
  ret double %result
}

define dso_local i32 @main() #0 {
entry:
  %name.ptr = getelementptr inbounds [2 x %struct.Item], ptr @items, i64 0, i64 0, i32 0
  store ptr @.str.1, ptr %name.ptr, align 16
  %total = call double @total_value(ptr noundef @items, i32 noundef 2)
  %call = call i32 (ptr, ...) @printf(ptr noundef @.str, double noundef %total)
  %limit = load i32, ptr @threshold, align 4
  %low = icmp slt i32 %limit, 10
  %ret = select i1 %low, i32 0, i32 1
  switch i32 %ret, label %other [
    i32 0, label %ok
  ]

ok:
  ret i32 0

other:
  ret i32 %ret
}

attributes #0 = { noinline nounwind optnone uwtable "frame-pointer"="all" }

!llvm.module.flags = !{!0, !1}
!llvm.ident = !{!2}

!0 = !{i32 1, !"wchar_size", i32 4}
!1 = !{i32 7, !"uwtable", i32 2}
!2 = !{!"clang version 17.0.6"}
